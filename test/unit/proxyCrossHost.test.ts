// The proxy with its client and its server on other hosts: three programs in three network namespaces in a row,
// client ⇄ proxy ⇄ server, joined by two veth pairs (see netns.ts). The Python client runs in the first, the proxy in
// the middle one (listening on its address towards the client), the Python echo server (the user's server) in the
// last. So the proxy's clients are on another machine: its per-address rate limit applies, and the simulation's
// duplicates are held back from them unless amplification is allowed.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { DEFAULT_DELAY_QUEUE } from '../../src/core/impairment/delayedCopies';
import { NO_LINK_IMPAIRMENT } from '../../src/core/impairment/impairment';
import type { ProxyReport } from './fixtures/netnsProxy';
import { NamespaceChain, requireNamespaces } from './netns';
import { PythonEchoServer, runPythonClients, type ClientPlan } from './proxyPrograms';

const PROXY_FIXTURE = path.join(__dirname, 'fixtures', 'netnsProxy.js');
const LINE_TIMEOUT_MS = 10_000;

function nextLine(child: ChildProcess, lines = createInterface({ input: child.stdout! })): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the proxy in the namespace said nothing within ${LINE_TIMEOUT_MS} ms`)),
      LINE_TIMEOUT_MS,
    );
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
}

describe('ImpairmentProxy across hosts (client, proxy and server in three network namespaces)', function () {
  this.timeout(90_000);
  let chain: NamespaceChain;
  /** Replies say whom the server saw, so they are larger than their requests. */
  let echo: PythonEchoServer;
  /** Replies are the requests' bytes. */
  let mirror: PythonEchoServer;
  /** Addresses of the client's host beside its first: other machines, as far as the proxy can tell. */
  const moreClients = ['10.78.1.3', '10.78.1.4', '10.78.1.5', '10.78.1.6'];

  before(async function () {
    requireNamespaces(this);
    chain = NamespaceChain.create();
    for (const address of moreClients) chain.addAddress(chain.client, `${address}/24`);
    chain.addAddress(chain.client, 'fd78:1::3/64');
    const inServerHost = (args: string[]) => chain.spawn(chain.server, 'python3', args);
    echo = await PythonEchoServer.start(chain.server.ipv4, inServerHost);
    mirror = await PythonEchoServer.start(chain.server.ipv4, inServerHost, { mirror: true });
  });
  after(async () => {
    await echo?.stop();
    await mirror?.stop();
    chain?.destroy();
  });

  /** A proxy in the middle namespace: clients run against it from either side, then `finish` stops it and reports. */
  async function startProxy(options: Record<string, unknown>, upstream = echo) {
    const proxy = chain.spawn(chain.proxyFront, process.execPath, [
      PROXY_FIXTURE,
      JSON.stringify({ host: chain.proxyFront.ipv4, port: 0, upstreamHost: chain.server.ipv4, upstreamPort: upstream.port, ...options }),
    ]);
    const lines = createInterface({ input: proxy.stdout! });
    try {
      const { port } = JSON.parse(await nextLine(proxy, lines)) as { port: number };
      return {
        /** Clients on the client's host (another machine), or with `onProxyHost` on the proxy's own host (loopback). */
        clients: (plan: Partial<ClientPlan>, { to = chain.proxyFront.ipv4, onProxyHost = false } = {}) =>
          runPythonClients(to, port, { clients: 1, count: 1, gapMs: 5, quietMs: 700, ...plan }, [
            'ip',
            'netns',
            'exec',
            onProxyHost ? chain.proxyFront.namespace : chain.client.namespace,
          ]),
        finish: async (): Promise<ProxyReport> => {
          const reported = nextLine(proxy, lines);
          proxy.stdin!.end();
          try {
            return JSON.parse(await reported) as ProxyReport;
          } finally {
            proxy.kill();
          }
        },
        kill: () => proxy.kill(),
      };
    } catch (error) {
      proxy.kill();
      throw error;
    }
  }

  async function throughProxy(
    options: Record<string, unknown>,
    plan: { clients: number; count: number },
    upstream = echo,
  ): Promise<{ replies: Array<[number, string]>; report: ProxyReport }> {
    const proxy = await startProxy(options, upstream);
    try {
      const run = await proxy.clients(plan);
      return { replies: run.replies, report: await proxy.finish() };
    } finally {
      proxy.kill();
    }
  }

  function assertAddsUp(report: ProxyReport): void {
    for (const c of [report.counters.toServer, report.counters.toClient]) assert.equal(c.received, c.forwarded + c.dropped + c.pending);
  }

  it('forwards for a client on another host to a server on a third, and each hop sees the one before it', async () => {
    // The tagging echo answers more bytes than it is sent: only with amplification allowed does all of it pass.
    const { replies, report } = await throughProxy({ rateLimit: false, allowAmplification: true }, { clients: 2, count: 5 });
    assert.equal(replies.length, 10);
    assert.deepEqual(report.sessions, [chain.client.ipv4, chain.client.ipv4]);
    assert.equal(report.counters.toServer.forwarded, 10);
    assert.equal(report.counters.toClient.forwarded, 10);
    // The server saw the proxy's address on its own link, and the proxy's events say so for the capture.
    assert.ok(
      replies.every(([, text]) => text.includes(`|${chain.proxyBack.ipv4}:`)),
      replies.map(([, text]) => text).join(' '),
    );
    assert.deepEqual(report.upstreamSources, [chain.proxyBack.ipv4]);
  });

  it('rate-limits a client on another host, per address', async () => {
    const { replies, report } = await throughProxy(
      { rateLimit: { perSecond: 0.01, burst: 3, exemptLoopback: true } },
      { clients: 1, count: 10 },
      mirror,
    );
    assert.equal(replies.length, 3, 'the burst of 3 passes, the rest is limited');
    assert.equal(report.counters.toServer.droppedBy['rate-limited'], 7);
    assertAddsUp(report);
  });

  it('holds back simulated duplicates from a client on another host, counts and reports them, and sends them once allowed', async () => {
    const twice = { toServer: NO_LINK_IMPAIRMENT, toClient: { ...NO_LINK_IMPAIRMENT, duplicate: 1 } };
    const guarded = await throughProxy({ rateLimit: false, links: twice }, { clients: 1, count: 6 }, mirror);
    assert.equal(guarded.replies.length, 6, 'one reply each: no duplicate reached the other host');
    const { toClient } = guarded.report.counters;
    assert.deepEqual([toClient.forwarded, toClient.copies, toClient.duplicated, toClient.duplicatesWithheld], [6, 6, 0, 6]);
    assert.equal(guarded.report.duplicatesWithheld, 6, 'each forward says its duplicate was held back');
    assertAddsUp(guarded.report);

    const allowed = await throughProxy({ rateLimit: false, links: twice, allowAmplification: true }, { clients: 1, count: 6 }, mirror);
    assert.equal(allowed.replies.length, 12, 'allowed, each reply arrives twice');
    assert.deepEqual([allowed.report.counters.toClient.duplicatesWithheld, allowed.report.duplicatesWithheld], [0, 0]);
    assertAddsUp(allowed.report);
  });

  it('holds back duplicates towards the server too, so a client on another host gets one reply per request', async () => {
    const twice = { toServer: { ...NO_LINK_IMPAIRMENT, duplicate: 1 }, toClient: NO_LINK_IMPAIRMENT };
    const { replies, report } = await throughProxy({ rateLimit: false, links: twice }, { clients: 1, count: 8 }, mirror);
    assert.equal(replies.length, 8, 'the server was asked once per request');
    const { toServer, toClient } = report.counters;
    assert.deepEqual([toServer.copies, toServer.duplicatesWithheld, toClient.received], [8, 8, 8]);
    assertAddsUp(report);
  });

  it('gives a client on another host no more bytes back than it sent, unless amplification is allowed', async () => {
    // Each request is 3 bytes ("0:7"); each reply of the tagging echo about 20.
    const plan = { clients: 1, count: 12 };
    const guarded = await throughProxy({ rateLimit: false }, plan);
    const sent = 12 * 3;
    const received = guarded.replies.reduce((total, [, text]) => total + Buffer.byteLength(text, 'latin1'), 0);
    assert.ok(received <= sent, `${received} bytes back for ${sent} sent`);
    assert.ok(guarded.replies.length > 0, 'replies pass as the client sends enough to cover them');
    const { toClient } = guarded.report.counters;
    assert.equal(toClient.droppedBy.amplification, 12 - guarded.replies.length);
    assert.equal(guarded.report.dropEvents.amplification, toClient.droppedBy.amplification, 'each is logged');
    assertAddsUp(guarded.report);

    const allowed = await throughProxy({ rateLimit: false, allowAmplification: true }, plan);
    assert.equal(allowed.replies.length, 12);
    assert.equal(allowed.report.counters.toClient.droppedBy.amplification, 0);
  });

  it('bounds what waits for its delay in each direction, and counts and logs the rest as delay-queue-full', async () => {
    const slow = { toServer: { ...NO_LINK_IMPAIRMENT, delayMs: 60_000 }, toClient: NO_LINK_IMPAIRMENT };
    const proxy = await startProxy({ rateLimit: false, links: slow });
    try {
      // 12,000 datagrams, 4 a millisecond: more than the echo server's queue of 10,000, slow enough that none is lost on the way.
      await proxy.clients({ clients: 4, count: 3000, gapMs: 1, quietMs: 200 });
      const report = await proxy.finish();
      const { toServer } = report.counters;
      assert.ok(toServer.received > DEFAULT_DELAY_QUEUE.maxReplies, `only ${toServer.received} datagrams reached the proxy`);
      assert.equal(toServer.pending, DEFAULT_DELAY_QUEUE.maxReplies, 'the queue is full, and no fuller');
      assert.equal(toServer.droppedBy['delay-queue-full'], toServer.received - DEFAULT_DELAY_QUEUE.maxReplies);
      assert.equal(report.dropEvents['delay-queue-full'], toServer.droppedBy['delay-queue-full'], 'each is logged and captured');
      assertAddsUp(report);
    } finally {
      proxy.kill();
    }
  });

  it('keeps sessions for clients on this machine while addresses on other hosts hold all they may', async () => {
    // 16 sessions: an address (or IPv6 /64) may hold 4, other machines together 14, 2 are kept for this one.
    const proxy = await startProxy({ host: '::', rateLimit: false, maxSessions: 16 }, mirror);
    try {
      const hog = await proxy.clients({ clients: 40, bind: chain.client.ipv4 });
      assert.equal(new Set(hog.replies.map(([client]) => client)).size, 4, 'one address holds 4 sessions, no more');
      const ipv6 = await proxy.clients({ clients: 10, bind: 'fd78:1::3' }, { to: chain.proxyFront.ipv6 });
      const ipv6Again = await proxy.clients({ clients: 10, bind: chain.client.ipv6 }, { to: chain.proxyFront.ipv6 });
      assert.equal(ipv6.replies.length + ipv6Again.replies.length, 4, 'two addresses of one /64 share its 4');
      for (const address of moreClients) await proxy.clients({ clients: 40, bind: address });
      const local = await proxy.clients({ clients: 4, count: 3 }, { to: '127.0.0.1', onProxyHost: true });
      assert.equal(local.replies.length, 12, 'every client on the proxy host is answered');
      const report = await proxy.finish();
      const evicted = report.closed.filter((close) => close.reason === 'evicted');
      assert.equal(evicted.length, 2, 'beyond the 2 kept for it, this machine took the place of the 2 idlest remote sessions');
      assert.ok(evicted.every((close) => close.address !== '127.0.0.1'));
      assert.deepEqual(
        report.turnedAway.map((refusal) => `${refusal.address} ${refusal.cap}`),
        [
          `${chain.client.ipv4} per-address`,
          'fd78:1::3 per-address',
          `${moreClients[0]} per-address`,
          `${moreClients[1]} remote`,
          `${moreClients[2]} remote`,
          `${moreClients[3]} remote`,
        ],
        'each address turned away is named once, with the cap that did it',
      );
      assertAddsUp(report);
    } finally {
      proxy.kill();
    }
  });
});
