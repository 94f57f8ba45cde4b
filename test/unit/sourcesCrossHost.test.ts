// Sources no datagram can truly come from, and our own sockets as sources, across real network namespaces (see
// netns.ts): a workbench in one namespace (echo server, group listener, proxy, and loopback-only victims: see
// fixtures/netnsSources.ts), a peer in the other writing frames with any source it likes (fixtures/netnsPeer.py).
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { JsonLineFixture } from './jsonLineFixture';
import type { Ready, SourcesCommand, SourcesReport } from './fixtures/netnsSources';
import { NamespacePair, requireNamespaces, type Host } from './netns';

const FIXTURE = path.join(__dirname, 'fixtures', 'netnsSources.js');
const PEER_SCRIPT = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures', 'netnsPeer.py');
/** Long enough for a loop to show itself in thousands of datagrams, were there one. */
const LOOP_WINDOW_MS = 300;
const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/** 224.0.0.251 on Ethernet. */
const GROUP_MAC = '01:00:5e:00:00:fb';
const GROUP = '224.0.0.251';

/** The fixture's workbench, one JSON line per command. */
class RemoteWorkbench extends JsonLineFixture<SourcesCommand, { ok: boolean }> {
  constructor(child: ChildProcess) {
    super(child, 'the workbench in the namespace');
  }

  report(): Promise<SourcesReport> {
    return this.ask<SourcesReport>({ do: 'report' });
  }
}

interface Frame {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  readonly payload: string;
  /** The link's destination: the server's own MAC unless given. */
  readonly mac?: string;
}

describe('Across hosts (network namespaces): sources no datagram can come from, and our own sockets as sources', function () {
  this.timeout(60_000);
  let pair: NamespacePair | undefined;
  let workbench: RemoteWorkbench;
  let ports: Ready;
  let server: Host;
  let peer: Host;

  before(async function () {
    requireNamespaces(this);
    pair = NamespacePair.create();
    ({ server, peer } = pair);
    workbench = new RemoteWorkbench(pair.spawn(server, process.execPath, [FIXTURE, server.iface]));
    ports = await workbench.read<Ready>();
    pair.exec(server, 'sysctl', ['-qw', 'net.ipv4.conf.lo.route_localnet=1', 'net.ipv4.conf.lo.accept_local=1']);
  });

  after(async () => {
    try {
      await workbench?.close();
    } finally {
      pair?.destroy();
    }
  });

  beforeEach(async () => {
    await workbench.ask({ do: 'reply', to: 'server', mode: 'mirror' });
    await workbench.ask({ do: 'reply', to: 'listener', mode: 'mirror' });
  });

  /** Writes a frame onto the peer's link towards the server, as a host lying about its address would. */
  function peerForges(frame: Frame): void {
    forge(peer, peer.iface, frame.mac ?? server.mac, frame);
  }

  /**
   * Writes a frame onto the server's own loopback, as a program of that machine with a raw socket could. A frame
   * written there goes through the kernel's checks for arriving packets, which refuse loopback and local sources;
   * a raw IP socket's packet skips them, so the namespace lets them pass (route_localnet, accept_local) to match it.
   */
  function loopbackForges(frame: Frame): void {
    forge(server, 'lo', '00:00:00:00:00:00', frame);
  }

  function forge(host: Host, iface: string, mac: string, { src, sport, dst, dport, payload }: Frame): void {
    const args = ['--iface', iface, '--mac', mac, '--src', src, '--dst', dst, '--sport', String(sport), '--dport', String(dport)];
    pair!.exec(host, 'python3', [PEER_SCRIPT, 'forge', ...args, '--payload', payload]);
  }

  /** A genuine datagram from the peer, answered: whatever was written before it has had its chance to arrive. */
  function peerSendsGenuine(expected = 'genuine'): void {
    const args = [PEER_SCRIPT, 'send', '--bind', peer.ipv4, '--to', server.ipv4, '--port', String(ports.server), '--payload', 'genuine'];
    const { replies } = JSON.parse(pair!.exec(peer, 'python3', args)) as { replies: string[] };
    assert.deepEqual(replies, [expected]);
  }

  /** The report once `seen` says the datagrams are in, and a moment more for any reply (or loop) to happen. */
  async function reportWhen(seen: (report: SourcesReport) => boolean): Promise<SourcesReport> {
    for (let tries = 0; tries < 50; tries++) {
      const first = await workbench.report();
      if (seen(first)) {
        await new Promise((resolve) => setTimeout(resolve, LOOP_WINDOW_MS));
        const later = await workbench.report();
        return { ...later, victim: [...first.victim, ...later.victim], forged: [...first.forged, ...later.forged] };
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the datagrams never arrived');
  }

  const dropped = (counts: { droppedBy: Record<string, number> }, reason: string): number => counts.droppedBy[reason] ?? 0;

  it('drops 0.0.0.0 to 255.255.255.255 and :: to its own IPv6 address unanswered, and nothing reaches 127.0.0.1 or ::1', async () => {
    const before = await workbench.report();
    peerForges({
      src: '0.0.0.0',
      sport: ports.victim,
      dst: '255.255.255.255',
      dport: ports.server,
      payload: 'from 0.0.0.0',
      mac: BROADCAST_MAC,
    });
    peerForges({ src: '::', sport: ports.victim, dst: server.ipv6, dport: ports.server, payload: 'from ::' });
    const report = await reportWhen((now) => now.server.received >= before.server.received + 2);
    assert.deepEqual(report.victim, [], 'the forged bytes reached a service that listens only on loopback');
    assert.equal(report.server.received - before.server.received, 2, 'both reached the server: the kernel let them through');
    assert.equal(dropped(report.server, 'forged-source') - dropped(before.server, 'forged-source'), 2);
    assert.equal(report.server.replies, before.server.replies);
  });

  it('a group listener drops 0.0.0.0 to 224.0.0.251 unanswered', async () => {
    const before = await workbench.report();
    peerForges({ src: '0.0.0.0', sport: ports.victim, dst: GROUP, dport: ports.listener, payload: 'to the group', mac: GROUP_MAC });
    const report = await reportWhen((now) => now.listener.received >= before.listener.received + 1);
    assert.deepEqual(report.victim, [], 'the forged bytes reached a service that listens only on loopback');
    assert.equal(dropped(report.listener, 'forged-source') - dropped(before.listener, 'forged-source'), 1);
    assert.equal(report.listener.replies, before.listener.replies);
  });

  it('the proxy relays nothing from 0.0.0.0 or ::, so no reply of its upstream reaches loopback', async () => {
    const before = await workbench.report();
    peerForges({
      src: '0.0.0.0',
      sport: ports.victim,
      dst: '255.255.255.255',
      dport: ports.proxy,
      payload: 'via proxy',
      mac: BROADCAST_MAC,
    });
    peerForges({ src: '::', sport: ports.victim, dst: server.ipv6, dport: ports.proxy, payload: 'via proxy' });
    const report = await reportWhen((now) => now.proxy.received >= before.proxy.received + 2);
    assert.deepEqual(report.victim, [], 'the upstream’s reply reached a service that listens only on loopback');
    assert.equal(dropped(report.proxy, 'forged-source') - dropped(before.proxy, 'forged-source'), 2);
    assert.equal(report.proxy.forwarded, before.proxy.forwarded);
  });

  it('never answers multicast, broadcast or IPv4-mapped sources (those the kernel lets through are counted forged)', async () => {
    const before = await workbench.report();
    const sources = ['224.0.0.1', '239.1.2.3', '255.255.255.255', '10.77.0.255', '0.1.2.3'];
    for (const src of sources) peerForges({ src, sport: ports.victim, dst: server.ipv4, dport: ports.server, payload: `from ${src}` });
    const mapped = ['::ffff:0.0.0.0', '::ffff:224.0.0.1', '::ffff:255.255.255.255', '::ffff:10.77.0.255'];
    for (const src of [...mapped, 'ff02::1', 'ff05::2']) {
      peerForges({ src, sport: ports.victim, dst: server.ipv6, dport: ports.server, payload: `from ${src}` });
    }
    peerSendsGenuine();
    const report = await reportWhen(() => true);
    assert.deepEqual(report.victim, []);
    assert.equal(report.server.replies - before.server.replies, 1, 'only the genuine datagram was answered');
    // What the kernel let through was counted forged: the IPv4-mapped ones (native IPv6 to it), 0/8 and a directed
    // broadcast source; Linux itself drops the multicast ones and 255.255.255.255.
    assert.equal(report.forged.length, report.server.received - before.server.received - 1, report.forged.join(' '));
    for (const src of [...mapped, '10.77.0.255', '0.1.2.3']) {
      assert.ok(report.forged.includes(src), `${src} arrived and was counted forged: ${report.forged.join(' ')}`);
    }
    assert.deepEqual(report.victim, []);
  });

  it('Linux drops an IPv4 source that is the server’s own address from another host, but not an IPv6 one', async () => {
    await workbench.ask({ do: 'reply', to: 'server', mode: 'template', template: 'a much longer reply: ${text}' });
    const before = await workbench.report();
    peerForges({ src: server.ipv4, sport: 40_000, dst: server.ipv4, dport: ports.server, payload: 'own v4' });
    peerForges({ src: server.ipv4, sport: 40_000, dst: GROUP, dport: ports.listener, payload: 'own v4', mac: GROUP_MAC });
    peerForges({ src: server.ipv6, sport: 40_000, dst: server.ipv6, dport: ports.server, payload: 'abcd' });
    peerSendsGenuine('a much ');
    const report = await reportWhen(() => true);
    assert.equal(report.listener.received, before.listener.received, 'the kernel let a forged own IPv4 source reach the group listener');
    assert.equal(report.server.received - before.server.received, 2, 'the IPv6 one and the genuine one: no forged own IPv4 source');
    // The IPv6 one proves nothing about its sender, so it was answered as a remote peer: cut to its 4 bytes.
    assert.equal(report.server.bytesSent - before.server.bytesSent, 4 + 'a much '.length);
  });

  it('a group listener answers a program of its own host, sending from the host’s IPv4 address, in full', async () => {
    await workbench.ask({ do: 'reply', to: 'listener', mode: 'template', template: 'Data for ${text}' });
    const sent = await workbench.ask<{ replies: string[] }>({
      do: 'local-send',
      from: server.ipv4,
      to: GROUP,
      port: ports.listener,
      payload: 'me',
    });
    assert.deepEqual(sent.replies, ['Data for me']);
  });

  for (const [name, send] of [
    ['from another host, its own IPv6 address', (f: Omit<Frame, 'src'>) => peerForges({ ...f, src: server.ipv6 })],
    ['on loopback, 127.0.0.1', (f: Omit<Frame, 'src'>) => loopbackForges({ ...f, src: '127.0.0.1' })],
  ] as const) {
    const dst = name.startsWith('on loopback') ? '127.0.0.1' : undefined;

    for (const mode of ['mirror', 'template'] as const) {
      it(`a server never answers its own port (${name}), in ${mode} mode: no loop`, async () => {
        // In template mode each round would answer a longer reply than the last.
        await workbench.ask({ do: 'reply', to: 'server', mode, template: '+${text}' });
        const before = await workbench.report();
        send({ sport: ports.server, dst: dst ?? server.ipv6, dport: ports.server, payload: mode });
        const report = await reportWhen((now) => now.server.received > before.server.received);
        assert.equal(report.server.received - before.server.received, 1, 'the server answered itself');
        assert.equal(dropped(report.server, 'own-socket') - dropped(before.server, 'own-socket'), 1);
      });
    }

    it(`the proxy never relays from its own port (${name}): no loop through its upstream`, async () => {
      const before = await workbench.report();
      send({ sport: ports.proxy, dst: dst ?? server.ipv6, dport: ports.proxy, payload: 'proxy to itself' });
      const report = await reportWhen((now) => now.proxy.received > before.proxy.received);
      assert.equal(report.proxy.received - before.proxy.received, 1, 'the proxy relayed its own datagram round');
      assert.equal(dropped(report.proxy, 'own-socket') - dropped(before.proxy, 'own-socket'), 1);
    });

    it(`a server never answers the proxy whose upstream it is (${name}): no server → proxy → server ring`, async () => {
      const before = await workbench.report();
      send({ sport: ports.proxy, dst: dst ?? server.ipv6, dport: ports.server, payload: 'server to proxy' });
      const report = await reportWhen((now) => now.server.received > before.server.received);
      assert.equal(report.server.received - before.server.received, 1, 'the server and the proxy fed each other');
      assert.equal(report.proxy.received, before.proxy.received);
      assert.equal(dropped(report.server, 'own-socket') - dropped(before.server, 'own-socket'), 1);
    });
  }
});
