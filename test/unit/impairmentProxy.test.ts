import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { ProxyEvent, WorkbenchEvent } from '../../src/core/events';
import { NO_LINK_IMPAIRMENT } from '../../src/core/impairment/impairment';
import { ImpairmentProxy, type DirectionCounters, type ImpairmentProxyOptions } from '../../src/core/impairment/impairmentProxy';
import type { ProxyReport } from './fixtures/netnsProxy';
import { PythonEchoServer, runPythonClients, type ClientPlan } from './proxyPrograms';
import { openUdpSockets, socketsOn } from './sockets';
import type { LinkSettings } from '../../src/core/configuration';

const PROXY_FIXTURE = path.join(__dirname, 'fixtures', 'netnsProxy.js');

const link = (changes: Partial<LinkSettings>): LinkSettings => ({ ...NO_LINK_IMPAIRMENT, ...changes });

function assertAddsUp(counters: DirectionCounters, what: string): void {
  assert.equal(
    counters.received,
    counters.forwarded + counters.dropped + counters.pending,
    `${what}: received === forwarded + dropped + pending`,
  );
}

describe('ImpairmentProxy between a real client and a real server (Python, child processes)', function () {
  this.timeout(60_000);
  let server: PythonEchoServer;
  let proxy: ImpairmentProxy | undefined;
  let events: WorkbenchEvent[];

  before(async () => {
    server = await PythonEchoServer.start();
  });
  after(async () => {
    await server.stop();
  });
  beforeEach(() => {
    events = [];
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  async function startProxy(options: Partial<ImpairmentProxyOptions> = {}): Promise<ImpairmentProxy> {
    proxy = await ImpairmentProxy.start({
      host: '127.0.0.1',
      port: 0,
      upstreamHost: '127.0.0.1',
      upstreamPort: server.port,
      emit: (event) => {
        events.push(event);
        // At every event, each direction's counters add up.
        if (proxy) {
          const counters = proxy.counters;
          assertAddsUp(counters.toServer, `to-server at ${event.kind}`);
          assertAddsUp(counters.toClient, `to-client at ${event.kind}`);
        }
      },
      ...options,
    });
    return proxy;
  }

  const clients = (plan: Partial<ClientPlan>) =>
    runPythonClients('127.0.0.1', proxy!.local.port, { clients: 1, count: 1, gapMs: 2, quietMs: 500, ...plan });
  const ofKind = <K extends ProxyEvent['kind']>(kind: K) =>
    events.filter((event): event is Extract<ProxyEvent, { kind: K }> => event.kind === kind);

  it('forwards the bytes both ways, one upstream socket per client, each reply to its own client', async () => {
    await startProxy();
    const run = await clients({ clients: 3, count: 5 });
    assert.equal(run.replies.length, 15);
    const seenByServer = new Map<number, Set<string>>();
    for (const [client, reply] of run.replies) {
      const [payload, peer] = reply.split('|');
      assert.match(payload, new RegExp(`^${client}:[0-4]$`), 'each client gets its own replies back');
      (seenByServer.get(client) ?? seenByServer.set(client, new Set()).get(client)!).add(peer);
    }
    const peers = [...seenByServer.values()].map((set) => {
      assert.equal(set.size, 1, 'one client, one upstream socket');
      return [...set][0];
    });
    assert.equal(new Set(peers).size, 3, 'the server sees three distinct peers');
    // Python reports an implicitly bound socket as 0.0.0.0:port: compare ports.
    const clientPorts = run.locals.map((local) => Number(local.split(':')[1])).sort();
    for (const peer of peers) assert.ok(!clientPorts.includes(Number(peer.split(':')[1])), 'the server sees the proxy, not the client');
    assert.equal(ofKind('session-opened').length, 3);
    assert.deepEqual(
      ofKind('session-opened')
        .map((event) => event.peer.port)
        .sort(),
      clientPorts,
    );
    const counters = proxy!.counters;
    assert.equal(counters.toServer.forwarded, 15);
    assert.equal(counters.toClient.forwarded, 15);
    assert.equal(ofKind('forwarded').filter((event) => event.direction === 'to-client').length, 15);
  });

  it('closes a session after its idle time, and opens a new one when the client comes back', async () => {
    await startProxy({ idleTimeoutMs: 300 });
    const run = await clients({ clients: 2, count: 2, quietMs: 1500 });
    assert.equal(run.replies.length, 4);
    const closed = ofKind('session-closed');
    assert.equal(closed.length, 2, 'both sessions closed while the client waited 1.5 s');
    for (const event of closed) {
      assert.equal(event.reason, 'idle');
      assert.ok(event.idleMs >= 300, `idle ${event.idleMs} ms`);
    }
    assert.equal(proxy!.sessionCount, 0);
    await clients({ clients: 1, count: 1 });
    assert.equal(ofKind('session-opened').length, 3);
  });

  it('turns new clients away at the session cap, says so once, and counts each as dropped', async () => {
    await startProxy({ maxSessions: 2 });
    const run = await clients({ clients: 4, count: 3 });
    const answered = new Set(run.replies.map(([client]) => client));
    assert.deepEqual([...answered].sort(), [0, 1], 'the first two clients are served');
    assert.equal(ofKind('session-limit').length, 1);
    assert.equal(ofKind('session-limit')[0].limit, 2);
    assert.equal(proxy!.counters.toServer.droppedBy['session-limit'], 6);
    assert.ok(ofKind('proxy-dropped').every((event) => event.reason === 'session-limit' && event.direction === 'to-server'));
  });

  it('loses datagrams at the set rate, each way on its own', async () => {
    const n = 400;
    await startProxy({ links: { toServer: link({ loss: 0.2, seed: 11 }), toClient: link({ loss: 0.1, seed: 12 }) } });
    const run = await clients({ count: n, gapMs: 1 });
    const { toServer, toClient } = proxy!.counters;
    // Binomial: 5 standard deviations each side (a fixed seed makes it the same every run anyway).
    const within = (lost: number, trials: number, p: number) => Math.abs(lost - trials * p) <= 5 * Math.sqrt(trials * p * (1 - p));
    assert.equal(toServer.received, n);
    assert.ok(within(toServer.droppedBy['simulated-loss'], n, 0.2), `to-server lost ${toServer.droppedBy['simulated-loss']} of ${n}`);
    assert.equal(toClient.received, toServer.forwarded, 'the server answered everything that reached it');
    assert.ok(
      within(toClient.droppedBy['simulated-loss'], toClient.received, 0.1),
      `to-client lost ${toClient.droppedBy['simulated-loss']} of ${toClient.received}`,
    );
    assert.equal(run.replies.length, toClient.forwarded);
    const drops = ofKind('proxy-dropped');
    assert.equal(drops.filter((event) => event.direction === 'to-server').length, toServer.dropped);
    assert.equal(drops.filter((event) => event.direction === 'to-client').length, toClient.dropped);
  });

  it('flips exactly one bit of a corrupted datagram, and duplicates and delays as told', async () => {
    await startProxy({ links: { toServer: NO_LINK_IMPAIRMENT, toClient: link({ corrupt: 0.5, duplicate: 0.3, delayMs: 20, seed: 5 }) } });
    const n = 100;
    const run = await clients({ count: n, gapMs: 3, quietMs: 800 });
    const { toClient } = proxy!.counters;
    assert.equal(toClient.forwarded, n);
    assert.equal(run.replies.length, n + toClient.duplicated, 'a duplicate arrives as a second copy');
    const sent = new Set(
      ofKind('forwarded').flatMap((event) => (event.direction === 'to-client' ? [event.payload.toString('latin1')] : [])),
    );
    for (const [, reply] of run.replies) assert.ok(sent.has(reply), `reply ${JSON.stringify(reply)} is one the proxy sent`);
    let corrupted = 0;
    for (const event of ofKind('forwarded').filter((e) => e.direction === 'to-client' && !e.duplicate)) {
      assert.ok(event.delayMs >= 20);
      if (event.corruptedBit === undefined) continue;
      corrupted++;
      const original = Buffer.from(event.payload);
      original[event.corruptedBit >> 3] ^= 0x80 >> (event.corruptedBit & 7);
      assert.ok(/^0:\d+\|/.test(original.toString('latin1')), 'flipping the bit back gives the server reply');
    }
    assert.equal(corrupted, toClient.corrupted);
    assert.ok(Math.abs(corrupted - 50) <= 5 * Math.sqrt(100 * 0.25), `${corrupted} of 100 corrupted`);
  });

  it('drops what does not fit the bandwidth queue as queue-full', async () => {
    // 1 kbit/s: each short datagram takes ~40 ms to leave, so 30 sent at once overflow a queue of 5.
    await startProxy({ links: { toServer: link({ rateKbps: 1, queueLimit: 5 }), toClient: NO_LINK_IMPAIRMENT } });
    await clients({ count: 30, gapMs: 0, quietMs: 1500 });
    const { toServer } = proxy!.counters;
    assert.ok(toServer.droppedBy['queue-full'] > 0, 'some were dropped as queue-full');
    assert.equal(toServer.forwarded + toServer.droppedBy['queue-full'], 30);
    assert.ok(ofKind('proxy-dropped').every((event) => event.reason === 'queue-full'));
  });

  it('gives each datagram the same fate again from the same seed', async () => {
    const fates = async (): Promise<string[]> => {
      events = [];
      await startProxy({
        links: { toServer: link({ loss: 0.3, corrupt: 0.2, duplicate: 0.2, seed: 99 }), toClient: link({ loss: 0.3, seed: 98 }) },
      });
      await clients({ count: 150, gapMs: 2 });
      await proxy!.stop();
      proxy = undefined;
      return events
        .flatMap((event) =>
          event.kind === 'forwarded'
            ? [`${event.direction} ${event.seq} ${event.duplicate} ${event.corruptedBit}`]
            : event.kind === 'proxy-dropped'
              ? [`${event.direction} ${event.seq} ${event.reason}`]
              : [],
        )
        .sort(); // the two directions interleave as timing has it; each one's fates are what must repeat
    };
    const first = await fates();
    assert.ok(first.some((fate) => fate.endsWith('simulated-loss')));
    assert.deepEqual(await fates(), first);
  });

  it('says why it cannot start, and leaves nothing open', async () => {
    // Something holds a port on each family, so a start on it fails at its bind, for '::' after binding the IPv6 half.
    const taken = await bindUdp('0.0.0.0');
    const port = taken.address().port;
    try {
      const before = openUdpSockets();
      assert.ok(before > 0, 'the count sees the socket holding the port');
      const failures: Array<[Partial<ImpairmentProxyOptions>, RegExp]> = [
        [{ upstreamPort: 0 }, /port/i],
        [{ maxSessions: 0 }, /session limit is 0/],
        [{ links: { toServer: link({ loss: 2 }) } }, /loss is 2/],
        [{ port }, /already in use/],
        [{ host: '::', port }, /already in use/],
      ];
      for (const [options, message] of failures) {
        await assert.rejects(startProxy(options), message);
        assert.equal(openUdpSockets(), before, `no socket left open after ${JSON.stringify(options)}`);
      }
    } finally {
      taken.close();
    }
  });

  it('keeps a session open while a datagram waits for a delay longer than its idle timeout, so the reply still arrives', async () => {
    await startProxy({ idleTimeoutMs: 1000, links: { toServer: link({ delayMs: 1500 }), toClient: NO_LINK_IMPAIRMENT } });
    const run = await clients({ count: 1, quietMs: 2500 });
    assert.equal(run.replies.length, 1, 'the reply came back after 1.5 s');
    assert.equal(proxy!.counters.toClient.forwarded, 1);
    assert.deepEqual(ofKind('proxy-dropped'), []);
    await until(() => ofKind('session-closed').length === 1, 3000);
    const [closed] = ofKind('session-closed');
    assert.equal(closed.reason, 'idle');
    assert.ok(closed.idleMs >= 1000, `closed after ${closed.idleMs} ms without traffic`);
  });

  it('binds each session socket to the address that routes to the server (here loopback), not to every interface', async () => {
    await startProxy();
    await clients({ clients: 2, count: 1 });
    const sources = ofKind('forwarded').flatMap((event) => (event.direction === 'to-server' ? [event.source] : []));
    assert.equal(sources.length, 2);
    for (const source of sources) {
      const [socket] = socketsOn(source.port);
      assert.ok(socket, `a socket on port ${source.port}`);
      assert.equal(socket.address().address, '127.0.0.1');
    }
  });

  it('waits for the sends in flight when it stops: every datagram is forwarded or dropped once stop() resolves', async () => {
    let stopped: Promise<void> | undefined;
    await startProxy({
      emit: (event) => {
        events.push(event);
        if (event.kind === 'forwarded' && event.direction === 'to-client' && event.seq === 20) stopped = proxy!.stop();
      },
    });
    await clients({ clients: 4, count: 50, gapMs: 0, quietMs: 300 });
    assert.ok(stopped, 'it stopped in the middle of the traffic');
    await stopped;
    for (const counters of [proxy!.counters.toServer, proxy!.counters.toClient]) {
      assert.equal(counters.pending, 0);
      assertAddsUp(counters, 'after the stop');
    }
    assert.equal(ofKind('proxy-stopped').length, 1);
  });

  it('stops with an error when its listening socket is closed from outside, as the echo server does', async () => {
    await startProxy();
    const [socket] = socketsOn(proxy!.local.port);
    socket.close();
    await until(() => !proxy!.running, 2000);
    const errors = ofKind('proxy-error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0].error.code, 'SOCKET_CLOSED');
    assert.match(errors[0].error.message, /closed from outside the proxy, so the proxy has stopped/);
    await proxy!.stop();
    assert.equal(ofKind('proxy-stopped').length, 1);
  });

  it('out of file descriptors, turns new clients away with the too-many-open-files message, and still stops', async () => {
    // The proxy in a child process under `ulimit -n 40`; the 60 clients and the server are here, with descriptors to spare.
    const child = spawn(
      '/bin/sh',
      [
        '-c',
        `ulimit -n 40 && exec "${process.execPath}" "${PROXY_FIXTURE}" '${JSON.stringify({ host: '127.0.0.1', port: 0, upstreamHost: '127.0.0.1', upstreamPort: server.port })}'`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const nextLine = async (): Promise<string> => {
      const timer = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error('the proxy said nothing within 10 s')), 10_000).unref(),
      );
      const line = await Promise.race([lines.next(), timer]);
      return String(line.value);
    };
    try {
      const { port } = JSON.parse(await nextLine()) as { port: number };
      const run = await runPythonClients('127.0.0.1', port, { clients: 60, count: 1, gapMs: 2, quietMs: 500 });
      child.stdin!.end();
      const report = JSON.parse(await nextLine()) as ProxyReport;
      const { toServer, toClient } = report.counters;
      assert.ok(run.replies.length > 0 && run.replies.length < 60, `${run.replies.length} of 60 answered`);
      assert.equal(toServer.received, 60);
      assert.equal(toServer.pending + toClient.pending, 0, 'nothing is stuck');
      assert.equal(toServer.droppedBy['send-failed'], 60 - report.sessions.length, 'each client without a socket is counted');
      assert.ok(report.errors.length > 0 && report.errors.every((code) => code === 'TOO_MANY_OPEN_FILES'), report.errors.join(' '));
      assert.deepEqual(JSON.parse(await nextLine()), { stopped: true });
    } finally {
      child.kill();
    }
  });
});

async function until(condition: () => boolean, withinMs: number): Promise<void> {
  for (const ends = Date.now() + withinMs; !condition();) {
    if (Date.now() > ends) throw new Error(`not so within ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function bindUdp(address: string): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  return new Promise((resolve) => socket.bind(0, address, () => resolve(socket)));
}
