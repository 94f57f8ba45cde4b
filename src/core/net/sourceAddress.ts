/**
 * What a datagram's source address says about its sender, as the server, group listener and proxy see it: a source
 * no datagram can truly come from is forged, and only some sources prove the sender is on this machine.
 */
import { isIPv4Mapped, isLoopback } from '../endpoint';
import type { Peer } from '../events';
import { hostAddresses, type HostAddresses } from './hostAddresses';

/**
 * A source no datagram can truly come from, so only a forged one carries it:
 * - the unspecified addresses and 0.0.0.0/8 ("this network": only a host that does not know its address yet uses
 *   0.0.0.0, to ask for one, and never expects an answer to it);
 * - multicast (224.0.0.0/4, ff00::/8) and broadcast (255.255.255.255, any of this machine's networks' broadcast
 *   addresses): they name groups of receivers, never one sender;
 * - an IPv4-mapped address (::ffff:a.b.c.d, whatever the IPv4 address) on an IPv6 socket: every IPv6 socket here is
 *   IPv6-only (see listenSockets.ts), so real IPv4 peers arrive on an IPv4 socket and never look like this.
 * Linux delivers a reply sent to 0.0.0.0 or :: to this machine's own loopback, and one sent to a group or broadcast
 * address to every member: answering any of them would hand the forger's bytes to someone who never asked. Every
 * reply goes to the source of a datagram that passed this check, so none ever goes to such an address.
 */
export function isForgedSource(peer: Peer, at?: number, host: HostAddresses = hostAddresses): boolean {
  const { address } = peer;
  if (peer.family === 'IPv6') return address === '::' || IPV6_MULTICAST.test(address) || isIPv4Mapped(address);
  // The first number of a dotted address, as parseInt reads up to the first dot: no parse of the whole address.
  const first = parseInt(address, 10);
  if (first === 0 || (first >= 224 && first < 240) || address === '255.255.255.255') return true;
  // A network with a broadcast address has at least two host bits, all set in it: most sources skip the lookup.
  return (parseInt(address.slice(address.lastIndexOf('.') + 1), 10) & 3) === 3 && host.isBroadcast(address, at);
}

/** ff00::/8 as the system writes an address: four hex digits in the first group. */
const IPV6_MULTICAST = /^ff[0-9a-f]{2}:/i;

/**
 * The sender is on this machine: a loopback source, or one of this machine's own IPv4 addresses (a local program
 * sending to a group or to an interface address sends from it). Linux drops every IPv4 packet that arrives from
 * another host with a local address as its source (a "martian"; the namespace tests check it), so such a source
 * cannot be forged from outside. An IPv6 packet with this machine's own IPv6 address as its source is delivered
 * wherever it came from (the namespace tests show that too): such a source proves nothing and stays remote.
 */
export function isLocalSource(peer: Peer, at?: number, host: HostAddresses = hostAddresses): boolean {
  return isLoopback(peer.address) || (peer.family === 'IPv4' && host.isOwn(peer.address, at));
}
