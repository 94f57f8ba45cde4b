import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { NetworkInterfaceInfo } from 'node:os';
import { isWorkbenchError } from '../../src/core/errors';
import type { Peer } from '../../src/core/events';
import { HostAddresses } from '../../src/core/net/hostAddresses';
import { ImpairmentProxy } from '../../src/core/impairment/impairmentProxy';
import { OwnSockets } from '../../src/core/net/ownSockets';
import { isForgedSource, isLocalSource } from '../../src/core/net/sourceAddress';

/** A machine with eth0 on 10.1.2.3/24 and fd00::3/64, a point-to-point /31 and a /32, and loopback. */
function info(address: string, netmask: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const common = { address, netmask, mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}
const TABLE = {
  lo: [info('127.0.0.1', '255.0.0.0', 'IPv4', true), info('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'IPv6', true)],
  eth0: [
    info('10.1.2.3', '255.255.255.0', 'IPv4'),
    info('fd00::3', 'ffff:ffff:ffff:ffff::', 'IPv6'),
    info('fe80::3', 'ffff:ffff:ffff:ffff::', 'IPv6'),
  ],
  p2p: [info('10.9.9.0', '255.255.255.254', 'IPv4'), info('10.8.8.8', '255.255.255.255', 'IPv4')],
};

const v4 = (address: string, port = 5000): Peer => ({ address, port, family: 'IPv4' });
const v6 = (address: string, port = 5000): Peer => ({ address, port, family: 'IPv6' });

describe('Sources no datagram can come from', () => {
  const host = new HostAddresses(() => TABLE);
  const forged = (peer: Peer): boolean => isForgedSource(peer, 0, host);

  it('refuses the unspecified addresses and all of 0.0.0.0/8', () => {
    for (const address of ['0.0.0.0', '0.0.0.1', '0.1.2.3', '0.255.255.255']) assert.equal(forged(v4(address)), true, address);
    assert.equal(forged(v6('::')), true);
  });

  it('refuses multicast sources: 224.0.0.0/4 and ff00::/8', () => {
    for (const address of ['224.0.0.0', '224.0.0.251', '232.1.1.1', '239.255.255.255']) assert.equal(forged(v4(address)), true, address);
    for (const address of ['ff02::1', 'ff05::1:3', 'ff0e::1', 'ff00::']) assert.equal(forged(v6(address)), true, address);
  });

  it('refuses broadcast sources: 255.255.255.255 and the broadcast address of each of this machine’s networks', () => {
    for (const address of ['255.255.255.255', '10.1.2.255', '127.255.255.255']) assert.equal(forged(v4(address)), true, address);
  });

  it('refuses every IPv4-mapped source on an IPv6 socket, these classes and loopback among them', () => {
    for (const address of ['::ffff:0.0.0.0', '::ffff:224.0.0.251', '::ffff:255.255.255.255', '::ffff:10.1.2.255', '::ffff:127.0.0.1']) {
      assert.equal(forged(v6(address)), true, address);
    }
  });

  it('lets every other source through: hosts, loopback, the ends of /31 and /32 networks, 240.0.0.0/4 and 00ff::', () => {
    const fine = ['10.1.2.3', '10.1.2.254', '10.1.3.255', '127.0.0.1', '192.168.1.3', '10.9.9.1', '10.8.8.8', '1.0.0.0', '223.255.255.255'];
    for (const address of [...fine, '240.0.0.1']) assert.equal(forged(v4(address)), false, address);
    for (const address of ['::1', 'fd00::3', 'fe80::3', '2001:db8::1', 'ff::1', 'fff::1']) {
      assert.equal(forged(v6(address)), false, address);
    }
  });
});

describe('Sources on this machine (the amplification guard)', () => {
  const host = new HostAddresses(() => TABLE);
  const local = (peer: Peer): boolean => isLocalSource(peer, 0, host);

  it('counts loopback and this machine’s own IPv4 addresses as local, its own IPv6 addresses not (Linux lets those in from outside)', () => {
    for (const peer of [v4('127.0.0.1'), v4('127.9.9.9'), v6('::1'), v4('10.1.2.3'), v4('10.9.9.0')]) {
      assert.equal(local(peer), true, peer.address);
    }
    for (const peer of [v6('fd00::3'), v6('fe80::3%eth0'), v4('10.1.2.4'), v6('fd00::4')]) assert.equal(local(peer), false, peer.address);
  });

  it('lists the interfaces at most once a second, and again once that is past', () => {
    let reads = 0;
    const counting = new HostAddresses(() => {
      reads++;
      return reads === 1 ? TABLE : { eth0: [info('10.5.5.5', '255.255.255.0', 'IPv4')] };
    });
    assert.equal(counting.isOwn('10.1.2.3', 1000), true);
    assert.equal(counting.isBroadcast('10.1.2.255', 1999), true);
    assert.equal(reads, 1);
    assert.equal(counting.isOwn('10.1.2.3', 2000), false, 'the interface changed, and a second later it is seen');
    assert.equal(counting.isBroadcast('10.5.5.255', 2000), true);
    assert.equal(reads, 2);
  });
});

describe('Our own listening sockets as sources', () => {
  const host = new HostAddresses(() => TABLE);
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.close();
  });

  async function bound(type: 'udp4' | 'udp6', address: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket(type === 'udp6' ? { type, ipv6Only: true } : { type });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    return socket;
  }

  it('knows a socket by its own address, and one on a wildcard by any address of this machine', async () => {
    const own = new OwnSockets(host);
    const [specific, wildcard, ipv6] = [await bound('udp4', '127.0.0.1'), await bound('udp4', '0.0.0.0'), await bound('udp6', '::')];
    const forget = own.add({}, [specific, wildcard, ipv6], { answers: true });
    const [a, b, c] = [specific, wildcard, ipv6].map((socket) => socket.address().port);
    assert.equal(own.isOwn(v4('127.0.0.1', a)), true);
    assert.equal(own.isOwn(v4('127.0.0.2', a)), false, 'bound to 127.0.0.1, it never sends from 127.0.0.2');
    for (const address of ['127.0.0.1', '127.0.0.2', '10.1.2.3']) assert.equal(own.isOwn(v4(address, b)), true, address);
    assert.equal(own.isOwn(v4('10.1.2.4', b)), false, 'another machine’s address');
    assert.equal(own.isOwn(v6('::1', b)), false, 'the IPv4 socket never sends IPv6');
    for (const address of ['::1', 'fd00::3', 'fe80::3%eth0']) assert.equal(own.isOwn(v6(address, c)), true, address);
    assert.equal(own.isOwn(v4('127.0.0.1', c)), false);
    forget();
    assert.equal(own.isOwn(v4('127.0.0.1', a)), false, 'forgotten once removed');
    assert.equal(own.isOwn(v4('127.0.0.1', b)), false);
  });

  it('sees a proxy whose upstream leads back to it, directly or through other proxies, but not one in front of a server', async () => {
    const own = new OwnSockets(host);
    const [server, first, second] = [await bound('udp4', '0.0.0.0'), await bound('udp4', '127.0.0.1'), await bound('udp4', '127.0.0.1')];
    const at = (socket: dgram.Socket): Peer => v4('127.0.0.1', socket.address().port);
    own.add({}, [server], { answers: true });
    assert.equal(own.leadsTo(at(server), [at(first)]), false, 'a proxy in front of our server');
    assert.equal(own.leadsTo(at(first), [at(first)]), true, 'a proxy whose upstream is itself');
    assert.equal(own.leadsTo(v4('10.1.2.3', server.address().port), [{ ...at(server), address: '0.0.0.0' }]), true, 'its own wildcard');
    own.add({}, [second], { relaysTo: at(first) });
    assert.equal(own.leadsTo(at(second), [at(first)]), true, 'first → second → first');
    assert.equal(own.leadsTo(at(server), [at(first)]), false);
  });

  it('a proxy whose upstream is itself, or closes a ring of proxies, does not start and says why', async () => {
    // A free port, known before a proxy binds it.
    const free = await bound('udp4', '127.0.0.1');
    const port = free.address().port;
    free.close();
    sockets.splice(0);
    // The ring's first proxy relays to that port, where nothing listens yet.
    const first = await ImpairmentProxy.start({ host: '127.0.0.1', port: 0, upstreamHost: '127.0.0.1', upstreamPort: port });
    try {
      const loop = (error: unknown): boolean =>
        isWorkbenchError(error) && error.code === 'BAD_SETTING' && /leads back to the proxy itself/.test(error.text);
      await assert.rejects(ImpairmentProxy.start({ host: '127.0.0.1', port, upstreamHost: '127.0.0.1', upstreamPort: port }), loop);
      await assert.rejects(
        ImpairmentProxy.start({ host: '0.0.0.0', port, upstreamHost: '127.0.0.1', upstreamPort: first.local.port }),
        loop,
        'first → the new one → first',
      );
      // A chain without a ring is fine, and the refused ones left the port free.
      const behind = await ImpairmentProxy.start({ host: '127.0.0.1', port, upstreamHost: '127.0.0.1', upstreamPort: 9 });
      await behind.stop();
    } finally {
      await first.stop();
    }
  });
});
