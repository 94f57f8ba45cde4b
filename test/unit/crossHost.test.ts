// The echo server's promises about peers on other hosts, tested across real network namespaces (see netns.ts):
// the server runs in one namespace bound to ::, the peers (genuine and forging) in the other.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { NO_SIMULATION } from '../../src/core/impairment/impairment';
import type { Report, ServerCommand } from './fixtures/netnsServer';
import { NamespacePair, requireNamespaces, type Host } from './netns';

const SERVER_FIXTURE = path.join(__dirname, 'fixtures', 'netnsServer.js');
const PEER_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'netnsPeer.py');
const ANSWER_TIMEOUT_MS = 10_000;
/** A burst of 3 and almost no refill, so a handful of datagrams shows the limit however slow the machine; loopback exempt, as by default. */
const LIMIT = { perSecond: 0.01, burst: 3, exemptLoopback: true };
const STOP_TIMEOUT_MS = 5000;

/** The fixture server in its namespace, driven one JSON line at a time. */
class RemoteServer {
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private wake: (() => void) | undefined;

  constructor(private readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (line) => {
      this.queue.push(line);
      this.wake?.();
    });
  }

  async next<T>(): Promise<T> {
    if (this.queue.length === 0) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`the server in the namespace did not answer within ${ANSWER_TIMEOUT_MS} ms`)),
          ANSWER_TIMEOUT_MS,
        );
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return JSON.parse(this.queue.shift()!) as T;
  }

  send<T>(command: ServerCommand): Promise<T> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.next<T>();
  }

  report(): Promise<Report> {
    return this.send<Report>({ do: 'report' });
  }

  /** Asks the server to stop; kills it if it has not exited within a few seconds. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const killer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    try {
      await this.send({ do: 'stop' }).catch(() => this.child.kill('SIGKILL'));
      this.child.stdin!.end();
      await exited;
    } finally {
      clearTimeout(killer);
      this.lines.close();
    }
  }
}

describe('Across hosts (network namespaces): a server on :: and a peer on another host', function () {
  this.timeout(60_000);
  let pair: NamespacePair | undefined;
  let server: RemoteServer;
  let port: number;
  let victimPort: number;
  let hosts: { server: Host; peer: Host };

  before(async function () {
    requireNamespaces(this);
    pair = NamespacePair.create();
    hosts = { server: pair.server, peer: pair.peer };
    // More of the peer's own /64, and a second /64 for it, reachable from the server.
    for (const last of [3, 4, 5, 6]) pair.addAddress(pair.peer, `fd77::${last}/64`);
    pair.addAddress(pair.server, 'fd77:0:0:1::1/64');
    pair.addAddress(pair.peer, 'fd77:0:0:1::2/64');
    server = new RemoteServer(pair.spawn(pair.server, process.execPath, [SERVER_FIXTURE, '::']));
    ({ port, victimPort } = await server.next<{ port: number; victimPort: number }>());
  });

  after(async () => {
    try {
      await server?.stop();
    } finally {
      pair?.destroy();
    }
  });

  beforeEach(async () => {
    // Off, then on: a fresh limiter with every bucket full (a change of settings alone keeps what each peer has left).
    await server.send({ do: 'protect', rateLimit: false, allowAmplification: false });
    await server.send({ do: 'protect', rateLimit: LIMIT, allowAmplification: false });
    await server.send({ do: 'reply', mode: 'mirror' });
    await server.send({ do: 'simulate', settings: NO_SIMULATION });
    await server.report();
  });

  /** Sends from `from` (an address of the peer) and returns the replies that came back to it. */
  function peerSends(from: string, payload: string, count = 1): string[] {
    const to = from.includes(':') ? hosts.server.ipv6 : hosts.server.ipv4;
    const args = [PEER_SCRIPT, 'send', '--bind', from, '--to', to, '--port', String(port), '--payload', payload, '--count', String(count)];
    return (JSON.parse(pair!.exec(hosts.peer, 'python3', args)) as { replies: string[] }).replies;
  }

  /** Writes a datagram from the peer's link with a source address of its choosing. */
  function peerForges(source: string, sourcePort: number, payload: string): void {
    const ipv6 = source.includes(':');
    const dst = ipv6 ? hosts.server.ipv6 : hosts.server.ipv4;
    const args = [
      '--iface',
      hosts.peer.iface,
      '--mac',
      hosts.server.mac,
      '--src',
      source,
      '--dst',
      dst,
      '--sport',
      String(sourcePort),
      '--dport',
      String(port),
      '--payload',
      payload,
    ];
    pair!.exec(hosts.peer, 'python3', [PEER_SCRIPT, 'forge', ...args]);
  }

  /** A report once the server has seen `received` datagrams in all, and a moment for replies to land. */
  async function reportAfter(received: number): Promise<Report> {
    for (let tries = 0; tries < 50; tries++) {
      const report = await server.report();
      if (report.counters.received >= received) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        const later = await server.report();
        return { ...later, events: [...report.events, ...later.events] };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the server never received ${received} datagrams`);
  }

  it('drops an IPv6 datagram forged with the source ::ffff:127.0.0.1, counts why, and sends nothing to 127.0.0.1', async () => {
    const before = (await server.report()).counters;
    // ::ffff:127.0.0.1 claims this machine; ::ffff:10.77.0.2 claims an IPv4 peer. Neither came over IPv4.
    peerForges('::ffff:127.0.0.1', victimPort, 'forged as loopback');
    peerForges(`::ffff:${hosts.peer.ipv4}`, 40_000, 'forged as IPv4');
    const report = await reportAfter(before.received + 2);
    assert.deepEqual(
      report.events.filter((event) => event.kind === 'dropped').map((event) => [event.peer, event.reason]),
      [
        [`::ffff:127.0.0.1 ${victimPort}`, 'forged-source'],
        [`::ffff:${hosts.peer.ipv4} 40000`, 'forged-source'],
      ],
    );
    assert.deepEqual(
      report.events.filter((event) => event.kind === 'replied'),
      [],
    );
    assert.deepEqual(report.victim, [], 'the forged bytes reached a service that listens only on 127.0.0.1');
    assert.equal(report.counters.droppedBy['forged-source'] - before.droppedBy['forged-source'], 2);
    assert.equal(report.counters.answered, before.answered);
  });

  it('never hears plain loopback sources from another host (the kernel drops them), so never answers them', async () => {
    const before = (await server.report()).counters;
    peerForges('127.0.0.1', victimPort, 'forged IPv4 loopback');
    peerForges('::1', victimPort, 'forged IPv6 loopback');
    // A genuine datagram after them: once it is in, the forged ones had their chance.
    assert.deepEqual(peerSends(hosts.peer.ipv4, 'genuine'), ['genuine']);
    const report = await reportAfter(before.received + 1);
    assert.equal(report.counters.received, before.received + 1);
    assert.deepEqual(report.victim, []);
  });

  for (const family of ['IPv4', 'IPv6'] as const) {
    it(`answers a genuine ${family} peer, rate-limited and size-guarded as a remote peer`, async () => {
      const from = family === 'IPv4' ? hosts.peer.ipv4 : hosts.peer.ipv6;
      await server.send({ do: 'reply', mode: 'template', template: 'a much longer reply: ${text}' });
      const before = (await server.report()).counters;
      const replies = peerSends(from, 'abcd', 5);
      // Burst 3, then limited; each reply cut to the request's 4 bytes.
      assert.deepEqual(replies, ['a mu', 'a mu', 'a mu']);
      const report = await reportAfter(before.received + 5);
      const peers = new Set(report.events.filter((event) => event.kind === 'received').map((event) => event.peer!.split(' ')[0]));
      assert.deepEqual([...peers], [from], 'the peer is seen with its own address, in its own family');
      assert.equal(report.counters.rateLimited - before.rateLimited, 2);
    });
  }

  it('counts a whole IPv6 /64 as one peer for the rate limit', async () => {
    const sameNetwork = ['fd77::2', 'fd77::3', 'fd77::4', 'fd77::5', 'fd77::6'];
    const answered = sameNetwork.map((from) => peerSends(from, `from ${from}`).length);
    assert.deepEqual(answered, [1, 1, 1, 0, 0], 'five addresses of one /64 share one burst of 3');
    assert.deepEqual(peerSends('fd77:0:0:1::2', 'other /64'), ['other /64'], 'another /64 has a bucket of its own');
    assert.equal((await server.report()).counters.rateLimited >= 2, true);
  });

  it('never sends a remote peer a simulated duplicate unless amplification is allowed', async () => {
    await server.send({ do: 'simulate', settings: { ...NO_SIMULATION, duplicate: 1 } });
    const before = (await server.report()).counters;
    assert.deepEqual(peerSends(hosts.peer.ipv4, 'once'), ['once']);
    assert.deepEqual(peerSends(hosts.peer.ipv6, 'once'), ['once']);
    const after = (await server.report()).counters;
    assert.equal(after.duplicatesWithheld - before.duplicatesWithheld, 2);

    await server.send({ do: 'protect', rateLimit: LIMIT, allowAmplification: true });
    await server.send({ do: 'simulate', settings: { ...NO_SIMULATION, duplicate: 1 } });
    assert.deepEqual(peerSends(hosts.peer.ipv4, 'twice'), ['twice', 'twice']);
  });
});
