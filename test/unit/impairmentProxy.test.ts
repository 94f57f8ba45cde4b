import * as assert from 'node:assert/strict';
import type { ProxyEvent, WorkbenchEvent } from '../../src/core/events';
import { NO_LINK_IMPAIRMENT, type LinkSettings } from '../../src/core/impairment';
import { ImpairmentProxy, type DirectionCounters, type ImpairmentProxyOptions } from '../../src/core/impairmentProxy';
import { PythonEchoServer, runPythonClients, type ClientPlan } from './proxyPrograms';

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
    await assert.rejects(startProxy({ upstreamPort: 0 }), /port/i);
    await assert.rejects(startProxy({ maxSessions: 0 }), /session limit is 0/);
    await assert.rejects(startProxy({ links: { toServer: link({ loss: 2 }) } }), /loss is 2/);
  });
});
