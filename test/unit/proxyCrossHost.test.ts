// The proxy with its client on another host: three programs, two network namespaces joined by a veth pair (see
// netns.ts). The Python client runs in one namespace; the proxy and the Python echo server (the user's server) in the
// other, so the proxy listens on an address other machines reach and its per-address rate limit applies.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { ProxyReport } from './fixtures/netnsProxy';
import { NamespacePair, requireNamespaces } from './netns';
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

describe('ImpairmentProxy across hosts (network namespaces)', function () {
  this.timeout(60_000);
  let pair: NamespacePair;
  let echo: PythonEchoServer;

  before(async function () {
    requireNamespaces(this);
    pair = NamespacePair.create();
    echo = await PythonEchoServer.start('127.0.0.1', (args) => pair.spawn(pair.server, 'python3', args));
  });
  after(async () => {
    await echo?.stop();
    pair?.destroy();
  });

  async function throughProxy(
    options: Record<string, unknown>,
    plan: { clients: number; count: number },
  ): Promise<{ replies: number; report: ProxyReport }> {
    const proxy = pair.spawn(pair.server, process.execPath, [
      PROXY_FIXTURE,
      JSON.stringify({ host: pair.server.ipv4, port: 0, upstreamHost: '127.0.0.1', upstreamPort: echo.port, ...options }),
    ]);
    const lines = createInterface({ input: proxy.stdout! });
    try {
      const { port } = JSON.parse(await nextLine(proxy, lines)) as { port: number };
      const run = await runPythonClients(pair.server.ipv4, port, { ...plan, gapMs: 5, quietMs: 700 }, [
        'ip',
        'netns',
        'exec',
        pair.peer.namespace,
      ]);
      const reported = nextLine(proxy, lines);
      proxy.stdin!.end();
      return { replies: run.replies.length, report: JSON.parse(await reported) as ProxyReport };
    } finally {
      proxy.kill();
    }
  }

  it('forwards for a client on another host, and the server answers it through the proxy', async () => {
    const { replies, report } = await throughProxy({ rateLimit: false }, { clients: 2, count: 5 });
    assert.equal(replies, 10);
    assert.deepEqual(report.sessions, [pair.peer.ipv4, pair.peer.ipv4]);
    assert.equal(report.counters.toServer.forwarded, 10);
    assert.equal(report.counters.toClient.forwarded, 10);
  });

  it('rate-limits a client on another host, per address', async () => {
    const { replies, report } = await throughProxy(
      { rateLimit: { perSecond: 0.01, burst: 3, exemptLoopback: true } },
      { clients: 1, count: 10 },
    );
    assert.equal(replies, 3, 'the burst of 3 passes, the rest is limited');
    assert.equal(report.counters.toServer.droppedBy['rate-limited'], 7);
    const { toServer } = report.counters;
    assert.equal(toServer.received, toServer.forwarded + toServer.dropped + toServer.pending);
  });
});
