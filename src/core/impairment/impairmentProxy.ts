import * as dgram from 'node:dgram';
import { formatEndpoint, isLoopback, parsePort, resolveHost } from '../endpoint';
import { badSetting, tooManyOpenFiles, WorkbenchError } from '../errors';
import { peerOf, type Direction, type EventSink, type Peer, type ProxyDropReason, type SessionClosedEvent } from '../events';
import { flipBit, LinkImpairment, NO_LINK_IMPAIRMENT, type ForwardCopy } from './impairment';
import { PROXY_LIMITS } from '../limits';
import { DEFAULT_DELAY_QUEUE, DelayedCopies, DelayQueueRoom } from './delayedCopies';
import { bindListenSockets, closeSocket, numericLookup } from '../net/listenSockets';
import { ownSockets } from '../net/ownSockets';
import { isForgedSource } from '../net/sourceAddress';
import { DEFAULT_RATE_LIMIT, PeerRateLimiter } from '../net/rateLimit';
import { SessionAdmission } from './sessionAdmission';
import { StopsOnce } from '../stopsOnce';
import type { LinkSettings, RateLimitSettings } from '../configuration';

export interface ProxyLinks {
  readonly toServer: LinkSettings;
  readonly toClient: LinkSettings;
}

export interface ImpairmentProxyOptions {
  /** Where clients send to. */
  host: string;
  /** 0 picks any free port. */
  port: number;
  /** The real server. */
  upstreamHost: string;
  upstreamPort: number;
  links?: Partial<ProxyLinks>;
  /** A session with no datagram either way for this long closes. */
  idleTimeoutMs?: number;
  /**
   * Clients served at once; a new client beyond it is dropped ('session-limit'). Clients on other machines may hold
   * all but a share kept for this machine's, one address (or IPv6 /64) a share of its own (PROXY_LIMITS).
   */
  maxSessions?: number;
  /** Per client address, towards the server; false: none. */
  rateLimit?: RateLimitSettings | false;
  /**
   * Let clients on other machines get more bytes back than they sent, and the simulation's duplicates either way;
   * off, as the echo server, replies beyond what a client sent are dropped ('amplification') and duplicates held back.
   */
  allowAmplification?: boolean;
  emit?: EventSink;
  id?: string;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_SESSIONS = 1024;

/**
 * Every datagram received in one direction ends up forwarded (at least one copy sent) or dropped, and is pending
 * until then, so at every moment: received === forwarded + dropped + pending.
 */
export interface DirectionCounters {
  received: number;
  forwarded: number;
  dropped: number;
  pending: number;
  /** Copies sent, duplicates included. */
  copies: number;
  bytesReceived: number;
  bytesSent: number;
  delayed: number;
  duplicated: number;
  /** Simulated duplicates not sent: the client is on another machine and amplification is not allowed. */
  duplicatesWithheld: number;
  corrupted: number;
  droppedBy: Record<ProxyDropReason, number>;
}

export interface ProxyCounters {
  readonly toServer: DirectionCounters;
  readonly toClient: DirectionCounters;
  sessionsOpened: number;
  sessionsClosed: number;
}

let proxiesStarted = 0;

/** One client's path through the proxy: its own upstream socket, so the server sees one peer per client. */
class Session {
  lastActive: number;
  /** Datagrams of this session waiting for their delay or their send, either way: it is not idle until they leave. */
  pending = 0;
  /** Unset while datagrams are pending: the last to leave arms it again. */
  idleTimer: NodeJS.Timeout | undefined;
  /** Bytes its client sent that replies may still spend, when it is guarded (amplification). */
  credit = 0;
  constructor(
    readonly id: number,
    readonly key: string,
    readonly client: Peer,
    /** The client's address (or IPv6 /64) when it is on another machine: what the per-address cap counts. */
    readonly remoteAddress: string | undefined,
    /** The listen socket the client sent to: replies leave from the address the client knows. */
    readonly listener: ListenSocket,
    readonly upstream: dgram.Socket,
    /** On another machine, amplification not allowed: no duplicates either way, and no more bytes back than it sent. */
    readonly guarded: boolean,
    /** Where the upstream socket sends from: the address that routes to the server, and the port the system picked. */
    readonly upstreamLocal: Peer,
    now: number,
  ) {
    this.lastActive = now;
  }
}

/** A socket clients send to, and its address. */
interface ListenSocket {
  readonly socket: dgram.Socket;
  readonly local: Peer;
}

/** One datagram on its way through, until each of its copies is sent, failed or cancelled. */
class InFlight {
  delivered = false;
  failed = false;
  constructor(
    readonly direction: Direction,
    readonly session: Session,
    readonly payload: Buffer,
    readonly seq: number,
    readonly corruptedBit: number | undefined,
    readonly duplicateWithheld: boolean,
    public unsettled: number,
    /** Holds a place in its direction's delay queue until it settles. */
    readonly delayed: boolean,
  ) {}
}

/**
 * A UDP relay between the user's own client and server that loses, delays, duplicates, reorders, corrupts and
 * rate-limits datagrams on purpose, each direction on its own, like a NAT: one upstream socket per client address.
 */
export class ImpairmentProxy extends StopsOnce {
  readonly id: string;
  readonly local: Peer;
  readonly listeningOn: readonly Peer[];
  readonly upstream: Peer;
  readonly exposed: boolean;
  readonly idleTimeoutMs: number;
  readonly maxSessions: number;
  private readonly emit: EventSink | undefined;
  private readonly count: ProxyCounters = { toServer: emptyCounters(), toClient: emptyCounters(), sessionsOpened: 0, sessionsClosed: 0 };
  private readonly link: Record<Direction, LinkImpairment>;
  private readonly limiter: PeerRateLimiter | undefined;
  private readonly guardAmplification: boolean;
  private readonly sessions = new Map<string, Session>();
  private readonly admission: SessionAdmission<Session>;
  private readonly waiting = new DelayedCopies<InFlight>();
  /** Each direction holds at most the echo server's delay queue. */
  private readonly delayQueue: Record<Direction, DelayQueueRoom> = {
    'to-server': new DelayQueueRoom(DEFAULT_DELAY_QUEUE),
    'to-client': new DelayQueueRoom(DEFAULT_DELAY_QUEUE),
  };
  private readonly sendCopy = (inFlight: InFlight, copy: ForwardCopy): void => this.send(inFlight, copy);
  private sessionsStarted = 0;
  /** The address this machine sends to the upstream server from, where session sockets bind; port 0. */
  private readonly source: Peer;
  /** Takes its listen sockets off the list of ours (see ownSockets.ts). */
  private readonly forgetSockets: () => void;
  private drained: (() => void) | undefined;

  /** Resolves the upstream and binds the listen socket(s). Throws WorkbenchError; nothing is left open when it does. */
  static async start(options: ImpairmentProxyOptions): Promise<ImpairmentProxy> {
    parsePort(options.port, { allowZero: true });
    parsePort(options.upstreamPort);
    const idleTimeoutMs = checkWhole(
      'The idle timeout',
      options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      1,
      PROXY_LIMITS.maxIdleTimeoutMs,
      'milliseconds',
    );
    const maxSessions = checkWhole(
      'The session limit',
      options.maxSessions ?? DEFAULT_MAX_SESSIONS,
      1,
      PROXY_LIMITS.maxSessions,
      'sessions',
    );
    const link = {
      'to-server': new LinkImpairment(options.links?.toServer ?? NO_LINK_IMPAIRMENT),
      'to-client': new LinkImpairment(options.links?.toClient ?? NO_LINK_IMPAIRMENT),
    };
    const limiter = options.rateLimit === false ? undefined : new PeerRateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
    const resolved = await resolveHost(options.upstreamHost);
    const upstream: Peer = { address: resolved.address, port: options.upstreamPort, family: resolved.family === 6 ? 'IPv6' : 'IPv4' };
    const sourceAddress = await sourceAddressTowards(upstream);
    const sockets = await bindListenSockets(options.host, options.port);
    const listening = sockets.map((socket) => peerOf(socket.address()));
    if (ownSockets.leadsTo(upstream, listening)) {
      await Promise.all(sockets.map(closeSocket));
      throw upstreamLoop(upstream);
    }
    return new ImpairmentProxy(sockets, upstream, options, { idleTimeoutMs, maxSessions, link, limiter, sourceAddress });
  }

  private constructor(
    private readonly sockets: readonly dgram.Socket[],
    upstream: Peer,
    options: ImpairmentProxyOptions,
    checked: {
      idleTimeoutMs: number;
      maxSessions: number;
      link: Record<Direction, LinkImpairment>;
      limiter: PeerRateLimiter | undefined;
      sourceAddress: string;
    },
  ) {
    super();
    this.listeningOn = sockets.map((socket) => peerOf(socket.address()));
    this.local = this.listeningOn[0];
    this.upstream = upstream;
    this.exposed = !isLoopback(this.local.address);
    this.id = options.id ?? `proxy-${++proxiesStarted}`;
    this.emit = options.emit;
    this.idleTimeoutMs = checked.idleTimeoutMs;
    this.maxSessions = checked.maxSessions;
    const evict = (session: Session): void => void this.closeSession(session, 'evicted');
    this.admission = new SessionAdmission(this.maxSessions, this.sessions, evict, this.id, this.emit);
    this.link = checked.link;
    // A loopback listener only hears this machine, where a loopback exemption covers every client.
    this.limiter = this.exposed || !checked.limiter?.exemptLoopback ? checked.limiter : undefined;
    this.guardAmplification = this.exposed && options.allowAmplification !== true;
    this.source = { address: checked.sourceAddress, port: 0, family: upstream.family };
    this.forgetSockets = ownSockets.add(this, sockets, { relaysTo: upstream });
    sockets.forEach((socket, i) => {
      const listener: ListenSocket = { socket, local: this.listeningOn[i] };
      socket.on('message', (payload, client) => this.fromClient(listener, payload, client));
      socket.on('error', (error) => this.socketError(error, `The proxy's socket on ${formatEndpoint(listener.local)}`));
      socket.on('close', () => this.listenSocketClosed(listener));
    });
    this.emit?.({ kind: 'proxy-started', at: Date.now(), proxyId: this.id, local: this.local, upstream, exposed: this.exposed });
  }

  /** A snapshot. */
  get counters(): ProxyCounters {
    const copy = (c: DirectionCounters): DirectionCounters => ({ ...c, droppedBy: { ...c.droppedBy } });
    return { ...this.count, toServer: copy(this.count.toServer), toClient: copy(this.count.toClient) };
  }

  get links(): ProxyLinks {
    return { toServer: this.link['to-server'].settings, toClient: this.link['to-client'].settings };
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Applies at once to datagrams that arrive from now on, and restarts that direction's random sequence from its seed. */
  configure(direction: Direction, settings: LinkSettings): void {
    this.link[direction] = new LinkImpairment(settings);
    this.emit?.({ kind: 'proxy-configured', at: Date.now(), proxyId: this.id, direction, link: this.link[direction].settings });
  }

  /** Cancels what waits for its delay, closes every socket, its sessions' too, and waits for the sends they held. */
  protected async shutDown(): Promise<void> {
    this.waiting.cancelAll((inFlight) => this.copySettled(inFlight));
    const sessions = [...this.sessions.values()];
    await Promise.all([...this.sockets.map(closeSocket), ...sessions.map((session) => this.closeSession(session, 'stopped'))]);
    this.forgetSockets();
    // Sends the sockets had queued report back (cancelled) after they close.
    if (this.pendingCount > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.emit?.({ kind: 'proxy-stopped', at: Date.now(), proxyId: this.id, local: this.local });
  }

  private get pendingCount(): number {
    return this.count.toServer.pending + this.count.toClient.pending;
  }

  /** A listen socket closed by anything but stop() no longer hears its clients: say so, and stop the rest of the proxy. */
  private listenSocketClosed(listener: ListenSocket): void {
    if (this.stopping !== undefined) return;
    const error = new WorkbenchError(
      'SOCKET_CLOSED',
      `The impairment proxy's socket on ${formatEndpoint(listener.local)} was closed from outside the proxy, so the proxy has stopped.`,
      'Start it again.',
    );
    this.emit?.({ kind: 'proxy-error', at: Date.now(), proxyId: this.id, error });
    void this.stop();
  }

  private fromClient(listener: ListenSocket, payload: Buffer, client: dgram.RemoteInfo): void {
    const at = Date.now();
    const key = `${client.address}|${client.port}`;
    let session = this.sessions.get(key);
    // The upstream's reply goes back to the client: refused here, a forged or own source never gets one.
    let refused: ProxyDropReason | undefined = isForgedSource(client, at)
      ? 'forged-source'
      : ownSockets.isOwn(client, at)
        ? 'own-socket'
        : this.limiter?.allow(client.address, at) === false
          ? 'rate-limited'
          : undefined;
    if (session === undefined && refused === undefined) {
      refused = this.admission.room(client, at);
      if (refused === undefined) session = this.openSession(key, client, listener, at);
      if (session === undefined) refused ??= 'send-failed';
    }
    // Counted after the session-opened event, so a listener of any event sees the counters add up.
    const counters = this.count.toServer;
    const sessionId = session?.id ?? 0;
    const seq = this.received(counters, payload);
    if (refused !== undefined || session === undefined) {
      this.drop(counters, 'to-server', sessionId, client, client, listener.local, payload, seq, refused ?? 'send-failed', at, true);
      return;
    }
    session.lastActive = at;
    if (session.guarded) session.credit += payload.length;
    this.impair('to-server', session, payload, seq, at);
  }

  private fromServer(session: Session, payload: Buffer, from: dgram.RemoteInfo): void {
    const counters = this.count.toClient;
    const at = Date.now();
    const seq = this.received(counters, payload);
    if (from.port !== this.upstream.port || from.address !== this.upstream.address) {
      this.drop(
        counters,
        'to-client',
        session.id,
        session.client,
        from,
        session.upstreamLocal,
        payload,
        seq,
        'not-from-upstream',
        at,
        true,
      );
      return;
    }
    session.lastActive = at;
    this.impair('to-client', session, payload, seq, at);
  }

  /** Its number in this direction; told to listeners once its fate is counted too, so the counters add up for them. */
  private received(counters: DirectionCounters, payload: Buffer): number {
    counters.bytesReceived += payload.length;
    return ++counters.received;
  }

  private openSession(key: string, client: Peer, listener: ListenSocket, at: number): Session | undefined {
    let upstream: dgram.Socket | undefined;
    let upstreamLocal: Peer;
    try {
      upstream = dgram.createSocket({ type: this.upstream.family === 'IPv6' ? 'udp6' : 'udp4', lookup: numericLookup });
      // Bound now, not by its first send: there a failure (out of descriptors) loses the send without its callback.
      upstreamLocal = { ...this.source, port: bindNow(upstream, this.source.address) };
    } catch (error) {
      upstream?.close();
      const code = (error as NodeJS.ErrnoException).code;
      const doing = `Could not open a socket for a new client ${formatEndpoint(client)}`;
      this.emit?.({
        kind: 'proxy-error',
        at,
        proxyId: this.id,
        error:
          code === 'EMFILE' || code === 'ENFILE'
            ? tooManyOpenFiles(doing, error)
            : new WorkbenchError('SOCKET_ERROR', `${doing}: ${(error as Error).message}`, 'The proxy keeps forwarding.', { cause: error }),
      });
      return undefined;
    }
    const remoteAddress = this.admission.opened(client, at);
    const guarded = this.guardAmplification && remoteAddress !== undefined;
    const session = new Session(++this.sessionsStarted, key, client, remoteAddress, listener, upstream, guarded, upstreamLocal, at);
    upstream.on('message', (payload, from) => this.fromServer(session, payload, from));
    upstream.on('error', (error) => this.socketError(error, `The upstream socket of session ${session.id} (${formatEndpoint(client)})`));
    upstream.on('close', () => void this.closeSession(session, 'socket-error'));
    this.sessions.set(key, session);
    this.count.sessionsOpened++;
    this.emit?.({ kind: 'session-opened', at, proxyId: this.id, session: session.id, peer: client });
    this.armIdle(session);
    return session;
  }

  /** One timer per session, not one per datagram: when it fires it checks whether the session was active since. */
  private armIdle(session: Session, ms = this.idleTimeoutMs): void {
    session.idleTimer = setTimeout(() => {
      session.idleTimer = undefined;
      // Datagrams on their way keep the session open (their copies need its socket, a reply may follow): the last to leave arms it again.
      if (session.pending > 0) return;
      const idleMs = Date.now() - session.lastActive;
      if (idleMs < this.idleTimeoutMs) this.armIdle(session, this.idleTimeoutMs - idleMs);
      else void this.closeSession(session, 'idle');
    }, ms);
  }

  /** Whatever of the session still waits for its delay is cancelled, and counted and logged as such. */
  private async closeSession(session: Session, reason: SessionClosedEvent['reason']): Promise<void> {
    if (this.sessions.get(session.key) !== session) return;
    this.sessions.delete(session.key);
    if (session.idleTimer) clearTimeout(session.idleTimer);
    this.admission.closed(session);
    this.count.sessionsClosed++;
    if (session.pending > 0) {
      this.waiting.cancel(
        (inFlight) => inFlight.session === session,
        (inFlight) => this.copySettled(inFlight),
      );
    }
    await closeSocket(session.upstream);
    const idleMs = Date.now() - session.lastActive;
    this.emit?.({ kind: 'session-closed', at: Date.now(), proxyId: this.id, session: session.id, peer: session.client, reason, idleMs });
  }

  private impair(direction: Direction, session: Session, payload: Buffer, seq: number, at: number): void {
    const counters = direction === 'to-server' ? this.count.toServer : this.count.toClient;
    const toServer = direction === 'to-server';
    const source = toServer ? session.client : this.upstream;
    const destination = toServer ? session.listener.local : session.upstreamLocal;
    if (!toServer && session.guarded) {
      // The reply may be no larger than what the client has sent and not yet spent: a forged client gains nothing.
      if (payload.length > session.credit) {
        this.drop(counters, direction, session.id, session.client, source, destination, payload, seq, 'amplification', at, true);
        return;
      }
      session.credit -= payload.length;
    }
    const fate = this.link[direction].decide(payload.length, at);
    if (fate.kind !== 'forwarded') {
      const reason = fate.kind === 'lost' ? 'simulated-loss' : 'queue-full';
      this.drop(counters, direction, session.id, session.client, source, destination, payload, seq, reason, at, true);
      return;
    }
    const sent = fate.corruptBit === undefined ? payload : flipBit(payload, fate.corruptBit);
    let copies = fate.copies;
    // As the echo server does: a duplicate either way would let a spoofed client on another machine multiply what comes back.
    const withheld = copies.length > 1 && session.guarded;
    if (withheld) {
      counters.duplicatesWithheld += copies.length - 1;
      copies = copies.slice(0, 1);
    }
    const delayed = copies.some((copy) => copy.delayMs > 0);
    if (delayed && !this.delayQueue[direction].take(sent.length)) {
      this.drop(counters, direction, session.id, session.client, source, destination, payload, seq, 'delay-queue-full', at, true);
      return;
    }
    if (fate.corruptBit !== undefined) counters.corrupted++;
    if (copies.length > 1) counters.duplicated++;
    if (copies[0].delayMs > 0) counters.delayed++;
    counters.pending++;
    session.pending++;
    const inFlight = new InFlight(direction, session, sent, seq, fate.corruptBit, withheld, copies.length, delayed);
    this.arrived(direction, session.id, session.client, source, destination, payload, seq, at);
    this.waiting.send(inFlight, copies, this.sendCopy);
  }

  private send(inFlight: InFlight, copy: ForwardCopy): void {
    const { session, payload, direction } = inFlight;
    const [socket, to] = direction === 'to-server' ? [session.upstream, this.upstream] : [session.listener.socket, session.client];
    try {
      socket.send(payload, to.port, to.address, (error) => this.copySent(inFlight, copy, error));
    } catch (error) {
      // A session closed while this copy waited, or a socket closed from outside.
      this.copySent(inFlight, copy, error as Error);
    }
  }

  private copySent(inFlight: InFlight, copy: ForwardCopy, error: Error | null): void {
    const counters = inFlight.direction === 'to-server' ? this.count.toServer : this.count.toClient;
    if (error === null) {
      inFlight.delivered = true;
      counters.copies++;
      counters.bytesSent += inFlight.payload.length;
      const { direction, session, payload, seq, corruptedBit, duplicateWithheld } = inFlight;
      const { delayMs, duplicate, reordered } = copy;
      const toServer = direction === 'to-server';
      this.emit?.({
        kind: 'forwarded',
        at: Date.now(),
        proxyId: this.id,
        direction,
        session: session.id,
        peer: session.client,
        source: toServer ? session.upstreamLocal : session.listener.local,
        destination: toServer ? this.upstream : session.client,
        payload,
        seq,
        delayMs,
        duplicate,
        reordered,
        corruptedBit,
        duplicateWithheld,
      });
    } else if (!(this.stopping && (error as NodeJS.ErrnoException).code === 'ECANCELED')) {
      inFlight.failed = true;
    }
    this.copySettled(inFlight);
  }

  private copySettled(inFlight: InFlight): void {
    if (--inFlight.unsettled > 0) return;
    const counters = inFlight.direction === 'to-server' ? this.count.toServer : this.count.toClient;
    counters.pending--;
    if (inFlight.delayed) this.delayQueue[inFlight.direction].release(inFlight.payload.length);
    this.sessionSettled(inFlight.session);
    if (this.stopping !== undefined && this.pendingCount === 0) this.drained?.();
    if (inFlight.delivered) {
      counters.forwarded++;
      return;
    }
    const { direction, session, payload, seq } = inFlight;
    const toServer = direction === 'to-server';
    const source = toServer ? session.client : this.upstream;
    const destination = toServer ? session.listener.local : session.upstreamLocal;
    this.drop(
      counters,
      direction,
      session.id,
      session.client,
      source,
      destination,
      payload,
      seq,
      inFlight.failed ? 'send-failed' : 'cancelled',
      Date.now(),
    );
  }

  /** A datagram leaving is activity: the session's idle time counts from the last to leave. */
  private sessionSettled(session: Session): void {
    session.pending--;
    session.lastActive = Date.now();
    if (session.pending === 0 && session.idleTimer === undefined && this.sessions.get(session.key) === session) this.armIdle(session);
  }

  private arrived(
    direction: Direction,
    session: number,
    peer: Peer,
    source: Peer,
    destination: Peer,
    payload: Buffer,
    seq: number,
    at: number,
  ): void {
    this.emit?.({ kind: 'proxy-received', at, proxyId: this.id, direction, session, peer, seq, source, destination, payload });
  }

  /** `source` and `destination` are those of the datagram as the proxy received it; `arrivedNow` when it was just received. */
  private drop(
    counters: DirectionCounters,
    direction: Direction,
    session: number,
    peer: Peer,
    source: Peer,
    destination: Peer,
    payload: Buffer,
    seq: number,
    reason: ProxyDropReason,
    at: number,
    arrivedNow = false,
  ): void {
    counters.dropped++;
    counters.droppedBy[reason]++;
    if (arrivedNow) this.arrived(direction, session, peer, source, destination, payload, seq, at);
    const size = payload.length;
    this.emit?.({ kind: 'proxy-dropped', at, proxyId: this.id, direction, session, peer, source, destination, payload, size, seq, reason });
  }

  private socketError(error: NodeJS.ErrnoException, what: string): void {
    // Linux reports an ICMP "port unreachable" from the server as ECONNREFUSED on the socket that sent to it.
    const text =
      error.code === 'ECONNREFUSED'
        ? `${what}: the server at ${formatEndpoint(this.upstream)} refused a datagram (nothing listens there).`
        : `${what} reported an error: ${error.message}`;
    this.emit?.({
      kind: 'proxy-error',
      at: Date.now(),
      proxyId: this.id,
      error: new WorkbenchError('SOCKET_ERROR', text, 'The proxy keeps forwarding.', { cause: error }),
    });
  }
}

function emptyCounters(): DirectionCounters {
  return {
    received: 0,
    forwarded: 0,
    dropped: 0,
    pending: 0,
    copies: 0,
    bytesReceived: 0,
    bytesSent: 0,
    delayed: 0,
    duplicated: 0,
    duplicatesWithheld: 0,
    corrupted: 0,
    droppedBy: {
      'simulated-loss': 0,
      'queue-full': 0,
      'send-failed': 0,
      'forged-source': 0,
      'own-socket': 0,
      'rate-limited': 0,
      'session-limit': 0,
      'delay-queue-full': 0,
      amplification: 0,
      'not-from-upstream': 0,
      cancelled: 0,
    },
  };
}

/** A ring of our own proxies would pass each datagram round for ever (see ownSockets.ts). */
function upstreamLoop(upstream: Peer): WorkbenchError {
  return new WorkbenchError(
    'BAD_SETTING',
    `The proxy's upstream ${formatEndpoint(upstream)} leads back to the proxy itself, so each datagram would go round for ever.`,
    'Point the proxy at the server, not at this proxy or at a proxy that forwards to it.',
  );
}

function checkWhole(what: string, value: number, min: number, max: number, unit: string): number {
  if (!(Number.isSafeInteger(value) && value >= min && value <= max)) {
    throw badSetting(what, value, `a whole number of ${unit} from ${min} to ${max}`, 'Correct the proxy settings.', 'open-settings');
  }
  return value;
}

/**
 * Binds a session's socket at once, to a port the system picks, and returns the port (dgram binds synchronously when
 * its lookup answers at once, as numericLookup does). Throws the system's error.
 */
function bindNow(socket: dgram.Socket, address: string): number {
  let failed: Error | undefined;
  const onError = (error: Error): void => {
    failed = error;
  };
  socket.once('error', onError);
  socket.bind(0, address);
  socket.off('error', onError);
  if (failed !== undefined) throw failed;
  return socket.address().port;
}

/**
 * The address this machine sends to `upstream` from, as routing picks it: a session's upstream socket binds to the
 * wildcard address on its first send, which says nothing of the address on the wire. A connected probe asks the
 * system once per proxy; where it cannot tell, the wildcard stands.
 */
function sourceAddressTowards(upstream: Peer): Promise<string> {
  const wildcard = upstream.family === 'IPv6' ? '::' : '0.0.0.0';
  return new Promise((resolve) => {
    const probe = dgram.createSocket(upstream.family === 'IPv6' ? 'udp6' : 'udp4');
    const done = (address: string): void => {
      probe.close(() => resolve(address));
    };
    probe.once('error', () => done(wildcard));
    probe.connect(upstream.port, upstream.address, () => {
      try {
        done(probe.address().address);
      } catch {
        done(wildcard);
      }
    });
  });
}
