// The proxy with its client and its server on other hosts: three programs in three network namespaces in a row,
// client ⇄ proxy ⇄ server, joined by two veth pairs (see netns.ts). The Python client runs in the first, the proxy in
// the middle one (listening on its address towards the client), the Python echo server (the user's server) in the
// last. So the proxy's clients are on another machine: its per-address rate limit applies, and the simulation's
// duplicates are held back from them unless amplification is allowed.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { NO_LINK_IMPAIRMENT } from '../../src/core/impairment';
import type { ProxyReport } from './fixtures/netnsProxy';
import { NamespaceChain, requireNamespaces } from './netns';
import { PythonEchoServer, runPythonClients } from './proxyPrograms';

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
  this.timeout(60_000);
  let chain: NamespaceChain;
  let echo: PythonEchoServer;

  before(async function () {
    requireNamespaces(this);
    chain = NamespaceChain.create();
    echo = await PythonEchoServer.start(chain.server.ipv4, (args) => chain.spawn(chain.server, 'python3', args));
  });
  after(async () => {
    await echo?.stop();
    chain?.destroy();
  });

  async function throughProxy(
    options: Record<string, unknown>,
    plan: { clients: number; count: number },
  ): Promise<{ replies: Array<[number, string]>; report: ProxyReport }> {
    const proxy = chain.spawn(chain.proxyFront, process.execPath, [
      PROXY_FIXTURE,
      JSON.stringify({ host: chain.proxyFront.ipv4, port: 0, upstreamHost: chain.server.ipv4, upstreamPort: echo.port, ...options }),
    ]);
    const lines = createInterface({ input: proxy.stdout! });
    try {
      const { port } = JSON.parse(await nextLine(proxy, lines)) as { port: number };
      const run = await runPythonClients(chain.proxyFront.ipv4, port, { ...plan, gapMs: 5, quietMs: 700 }, [
        'ip',
        'netns',
        'exec',
        chain.client.namespace,
      ]);
      const reported = nextLine(proxy, lines);
      proxy.stdin!.end();
      return { replies: run.replies, report: JSON.parse(await reported) as ProxyReport };
    } finally {
      proxy.kill();
    }
  }

  function assertAddsUp(report: ProxyReport): void {
    for (const c of [report.counters.toServer, report.counters.toClient]) assert.equal(c.received, c.forwarded + c.dropped + c.pending);
  }

  it('forwards for a client on another host to a server on a third, and each hop sees the one before it', async () => {
    const { replies, report } = await throughProxy({ rateLimit: false }, { clients: 2, count: 5 });
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
    );
    assert.equal(replies.length, 3, 'the burst of 3 passes, the rest is limited');
    assert.equal(report.counters.toServer.droppedBy['rate-limited'], 7);
    assertAddsUp(report);
  });

  it('holds back simulated duplicates from a client on another host, counts and reports them, and sends them once allowed', async () => {
    const twice = { toServer: NO_LINK_IMPAIRMENT, toClient: { ...NO_LINK_IMPAIRMENT, duplicate: 1 } };
    const guarded = await throughProxy({ rateLimit: false, links: twice }, { clients: 1, count: 6 });
    assert.equal(guarded.replies.length, 6, 'one reply each: no duplicate reached the other host');
    const { toClient } = guarded.report.counters;
    assert.deepEqual([toClient.forwarded, toClient.copies, toClient.duplicated, toClient.duplicatesWithheld], [6, 6, 0, 6]);
    assert.equal(guarded.report.duplicatesWithheld, 6, 'each forward says its duplicate was held back');
    assertAddsUp(guarded.report);

    const allowed = await throughProxy({ rateLimit: false, links: twice, allowAmplification: true }, { clients: 1, count: 6 });
    assert.equal(allowed.replies.length, 12, 'allowed, each reply arrives twice');
    assert.deepEqual([allowed.report.counters.toClient.duplicatesWithheld, allowed.report.duplicatesWithheld], [0, 0]);
    assertAddsUp(allowed.report);
  });
});
