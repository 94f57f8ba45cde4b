import { sendBurst, sendDatagram, type BurstOptions, type BurstResult } from '../send/client';
import { EchoServer, type EchoServerOptions } from '../server/echoServer';
import { EventStream, type WorkbenchEvent } from '../events';
import { ImpairmentProxy, type ImpairmentProxyOptions } from '../impairment/impairmentProxy';
import { KernelDropSampler, type SocketTableReader } from '../net/kernelDrops';
import { RoundTripStats } from '../stats';
import type { SendOptions, SendResult } from '../send/sendRequest';

/** Everything counted since the workbench started, including servers stopped since. */
export interface WorkbenchTotals {
  readonly server: {
    received: number;
    replies: number;
    /** Simulated and protective drops. */
    dropped: number;
    /** Dropped by the system before a server could read them; undefined where the system does not say. */
    kernelDropped: number | undefined;
  };
  /** `timeouts` counts every attempt that went unanswered, `gaveUp` the sends that ran out of retries. */
  readonly client: { sent: number; replies: number; timeouts: number; gaveUp: number; failures: number };
  /** Datagrams proxies received and dropped, and the copies they forwarded, both directions. */
  readonly proxy: { received: number; forwarded: number; dropped: number };
}

export interface WorkbenchOptions {
  /** How often the system's drop counts are sampled, and where from; for tests. */
  readonly kernelDrops?: { readonly intervalMs?: number; readonly read?: SocketTableReader };
}

/**
 * The running echo servers and the sending side, behind one stream of events.
 * Views subscribe to `events`; they never reach into servers or sockets.
 */
export class Workbench {
  readonly events = new EventStream<WorkbenchEvent>();
  readonly roundTrips = new RoundTripStats();
  private readonly counts: WorkbenchTotals = {
    server: { received: 0, replies: 0, dropped: 0, kernelDropped: 0 },
    client: { sent: 0, replies: 0, timeouts: 0, gaveUp: 0, failures: 0 },
    proxy: { received: 0, forwarded: 0, dropped: 0 },
  };
  private readonly kernelDrops: KernelDropSampler;
  private readonly servers = new Map<string, EchoServer>();
  private readonly proxies = new Map<string, ImpairmentProxy>();
  private readonly pendingSends = new Set<AbortController>();
  private disposed = false;

  private readonly emit = (event: WorkbenchEvent): void => {
    const { server, client, proxy } = this.counts;
    switch (event.kind) {
      case 'received':
        server.received++;
        break;
      case 'replied':
        server.replies++;
        break;
      case 'dropped':
        server.dropped++;
        break;
      case 'server-stopped':
        // Also a server whose socket was closed from outside: it is no longer running.
        this.servers.delete(event.serverId);
        break;
      case 'sent':
        client.sent++;
        break;
      case 'reply':
        client.replies++;
        this.roundTrips.add(event.rttMs);
        break;
      case 'timeout':
        client.timeouts++;
        if (!event.willRetry) client.gaveUp++;
        break;
      case 'kernel-dropped':
        if (server.kernelDropped !== undefined) server.kernelDropped += event.dropped;
        break;
      case 'kernel-drops-unavailable':
        server.kernelDropped = undefined;
        break;
      case 'send-failed':
        client.failures++;
        break;
      case 'proxy-received':
        proxy.received++;
        break;
      case 'forwarded':
        proxy.forwarded++;
        break;
      case 'proxy-dropped':
        proxy.dropped++;
        break;
      case 'proxy-stopped':
        this.proxies.delete(event.proxyId);
        break;
    }
    this.events.emit(event);
  };

  constructor(options: WorkbenchOptions = {}) {
    this.kernelDrops = new KernelDropSampler({ ...options.kernelDrops, emit: this.emit });
  }

  /** A snapshot: later events do not change it, and changing it changes no count. */
  get totals(): WorkbenchTotals {
    const { server, client, proxy } = this.counts;
    return { server: { ...server }, client: { ...client }, proxy: { ...proxy } };
  }

  /** Running servers, oldest first. */
  get runningServers(): readonly EchoServer[] {
    return [...this.servers.values()];
  }

  /** What the system dropped for a running server before it could read them; undefined where the system does not say. */
  kernelDroppedBy(id: string): number | undefined {
    return this.kernelDrops.droppedFor(id);
  }

  server(id: string): EchoServer | undefined {
    return this.servers.get(id);
  }

  async startServer(options: Omit<EchoServerOptions, 'emit'>): Promise<EchoServer> {
    this.assertOpen();
    const server = await EchoServer.start({ ...options, emit: this.emit });
    if (this.disposed) {
      // Disposed while binding: nobody would ever stop this one.
      await server.stop();
      this.assertOpen();
    }
    this.servers.set(server.id, server);
    this.kernelDrops.watch(server);
    return server;
  }

  /** Stops one server; false when no server has that id (stopping twice is not an error). */
  async stopServer(id: string): Promise<boolean> {
    const server = this.servers.get(id);
    if (!server) return false;
    this.servers.delete(id);
    await this.kernelDrops.unwatch(id);
    await server.stop();
    return true;
  }

  async stopAllServers(): Promise<number> {
    const ids = [...this.servers.keys()];
    await Promise.all(ids.map((id) => this.stopServer(id)));
    return ids.length;
  }

  /** Running proxies, oldest first. */
  get runningProxies(): readonly ImpairmentProxy[] {
    return [...this.proxies.values()];
  }

  proxy(id: string): ImpairmentProxy | undefined {
    return this.proxies.get(id);
  }

  async startProxy(options: Omit<ImpairmentProxyOptions, 'emit'>): Promise<ImpairmentProxy> {
    this.assertOpen();
    const proxy = await ImpairmentProxy.start({ ...options, emit: this.emit });
    if (this.disposed) {
      await proxy.stop();
      this.assertOpen();
    }
    this.proxies.set(proxy.id, proxy);
    return proxy;
  }

  /** Stops one proxy; false when no proxy has that id. */
  async stopProxy(id: string): Promise<boolean> {
    const proxy = this.proxies.get(id);
    if (!proxy) return false;
    this.proxies.delete(id);
    await proxy.stop();
    return true;
  }

  /** Sends one datagram and waits for its reply; `dispose` or the caller's signal cancels it. */
  send(options: Omit<SendOptions, 'emit'>): Promise<SendResult> {
    return this.withCancellation(options.signal, (signal) => sendDatagram({ ...options, emit: this.emit, signal }));
  }

  /**
   * Sends a burst. Its datagrams reach the traffic view and the capture, but not the totals or the log's lines (the
   * caller reports the result). Cancelled, it resolves with what it counted.
   */
  burst(options: Omit<BurstOptions, 'emit'>): Promise<BurstResult> {
    return this.withCancellation(options.signal, (signal) => sendBurst({ ...options, emit: this.emit, signal }));
  }

  /** Stops every server and cancels every send in flight; safe to call twice. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const controller of this.pendingSends) controller.abort();
    await Promise.all([this.stopAllServers(), ...[...this.proxies.keys()].map((id) => this.stopProxy(id))]);
    this.kernelDrops.dispose();
    this.events.dispose();
  }

  private async withCancellation<T>(caller: AbortSignal | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    this.assertOpen();
    const controller = new AbortController();
    this.pendingSends.add(controller);
    try {
      return await run(caller ? AbortSignal.any([controller.signal, caller]) : controller.signal);
    } finally {
      this.pendingSends.delete(controller);
    }
  }

  private assertOpen(): void {
    if (this.disposed) throw new Error('UDP Workbench has been shut down.');
  }
}
