/** Joining and leaving multicast groups on a server's sockets, and the group listener as the user writes it. */
import type * as dgram from 'node:dgram';
import { isIP } from 'node:net';
import { formatEndpoint, parseEndpoint } from '../endpoint';
import { quoteInput, WorkbenchError } from '../errors';
import { interfaceFor, isMulticast, noMulticastRoute, splitZone } from './groupAddress';
import { GROUP_LIMITS } from '../limits';
import { formatCount } from '../stats';
import type { GroupMembership } from '../configuration';

/** "239.1.2.3 on eth0 from 10.0.0.5". */
export function describeMembership({ group, interface: iface, source }: GroupMembership): string {
  return `${group}${iface ? ` on ${iface}` : ''}${source ? ` from ${source}` : ''}`;
}

/** Where a server listens, in the status bar: its first group and port for a group listener ("239.1.2.3:5000 +1"). */
export function describeListening(server: {
  readonly local: { address: string; port: number };
  readonly groups: readonly GroupMembership[];
}): string {
  const [first, ...others] = server.groups;
  if (first === undefined) return formatEndpoint(server.local);
  return `${formatEndpoint({ host: first.group, port: server.local.port })}${others.length > 0 ? ` +${others.length}` : ''}`;
}

/**
 * The groups a listener joins and the port it listens on, as typed in the palette: `239.1.2.3:5000`, several
 * separated by spaces or commas (`239.1.2.3:5000 239.1.2.4`, all on one port), then optionally `on eth0` (the
 * interface) and `from 10.0.0.5` (source-specific membership). Throws BAD_ENDPOINT saying what to write.
 */
export function parseGroupSpec(text: string): { groups: GroupMembership[]; port: number } {
  const example = 'Write a group and port, e.g. 239.1.2.3:5000 or [ff02::1234%lo]:5000, then optionally "on eth0" and "from 10.0.0.5".';
  const bad = (problem: string): WorkbenchError =>
    new WorkbenchError('BAD_ENDPOINT', `${quoteInput(text)} is not a group to listen on: ${problem}.`, example);
  const tokens = text.split(/[\s,]+/).filter(Boolean);
  const addresses: string[] = [];
  let port: number | undefined;
  let iface: string | undefined;
  let source: string | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (token === 'on' || token === 'from') {
      const value = tokens[++i];
      if (value === undefined) throw bad(`"${token}" needs ${token === 'on' ? 'an interface' : 'a source address'} after it`);
      if (token === 'on') iface = value;
      else if (isIP(value) === 0) throw bad(`the source ${quoteInput(value)} is not an IP address`);
      else source = value;
      continue;
    }
    const endpoint = isIP(token) !== 0 ? { host: token, port: undefined } : parseEndpoint(token);
    if (endpoint.port !== undefined) {
      if (port !== undefined && port !== endpoint.port) throw bad(`one listener has one port, and ${port} and ${endpoint.port} differ`);
      port = endpoint.port;
    }
    if (!isMulticast(endpoint.host)) {
      throw bad(`${quoteInput(endpoint.host)} is not a multicast group (IPv4 224.0.0.0 to 239.255.255.255, IPv6 ff00::/8)`);
    }
    addresses.push(endpoint.host);
  }
  if (addresses.length === 0) throw bad('no group is given');
  if (port === undefined) throw bad('the port is missing');
  if (addresses.length > GROUP_LIMITS.maxGroups) throw bad(`one listener joins at most ${formatCount(GROUP_LIMITS.maxGroups)} groups`);
  return { groups: addresses.map((group) => ({ group, interface: iface, source })), port };
}

/** The wildcard address a listener on these groups binds: one family's, or `::` (an IPv6 and an IPv4 socket) for both. */
export function listenAddressFor(groups: readonly GroupMembership[]): string {
  const families = new Set(groups.map(({ group }) => isIP(splitZone(group).bare)));
  return families.has(6) ? '::' : '0.0.0.0';
}

/**
 * Joins each group on the socket of its family; on the first failure leaves what it joined and throws a
 * WorkbenchError naming the group and the fix.
 */
export function joinGroups(sockets: readonly dgram.Socket[], groups: readonly GroupMembership[]): void {
  for (let i = 0; i < groups.length; i++) {
    try {
      join(sockets, groups[i]);
    } catch (error) {
      leaveGroups(sockets, groups.slice(0, i));
      throw error;
    }
  }
}

function join(sockets: readonly dgram.Socket[], membership: GroupMembership): void {
  const { group, source } = membership;
  if (!isMulticast(group)) {
    throw new WorkbenchError(
      'BAD_ENDPOINT',
      `${quoteInput(group)} is not a multicast group.`,
      'Join an IPv4 group from 224.0.0.0 to 239.255.255.255 (239.x.x.x for your own use), or an IPv6 group in ff00::/8.',
    );
  }
  const { bare } = splitZone(group);
  const family = familyOf(bare);
  const socket = socketOf(sockets, bare);
  if (socket === undefined) {
    throw new WorkbenchError(
      'FAMILY_MISMATCH',
      `The listener has no ${family} socket for the group ${group}.`,
      'Listen on :: to join both families.',
    );
  }
  const iface = interfaceFor(group, membership.interface);
  if (source !== undefined && isIP(source) !== isIP(bare)) {
    throw new WorkbenchError(
      'FAMILY_MISMATCH',
      `The source ${quoteInput(source)} and the group ${group} are not of the same address family.`,
      `Give an ${family} source address.`,
    );
  }
  try {
    if (source === undefined) socket.addMembership(bare, iface);
    else socket.addSourceSpecificMembership(source, bare, iface);
  } catch (error) {
    throw joinError(error as NodeJS.ErrnoException, membership);
  }
}

function familyOf(bare: string): 'IPv4' | 'IPv6' {
  return isIP(bare) === 6 ? 'IPv6' : 'IPv4';
}

function socketOf(sockets: readonly dgram.Socket[], bare: string): dgram.Socket | undefined {
  return sockets.find((candidate) => candidate.address().family === familyOf(bare));
}

/** Leaves the groups, so the system stops delivering them here before the socket closes. */
export function leaveGroups(sockets: readonly dgram.Socket[], groups: readonly GroupMembership[]): void {
  for (const membership of groups) {
    const { bare } = splitZone(membership.group);
    try {
      const socket = socketOf(sockets, bare);
      const iface = interfaceFor(membership.group, membership.interface);
      if (membership.source === undefined) socket?.dropMembership(bare, iface);
      else socket?.dropSourceSpecificMembership(membership.source, bare, iface);
    } catch {
      // An interface gone since the join, or a socket already closed: either way the membership is gone.
    }
  }
}

function joinError(error: NodeJS.ErrnoException, membership: GroupMembership): WorkbenchError {
  const what = describeMembership(membership);
  const cause = error;
  switch (error.code) {
    case 'ENODEV':
    case 'EADDRNOTAVAIL':
    case 'ENETUNREACH':
      return noMulticastRoute(`Could not join ${what}`, cause);
    case 'ENOBUFS':
      return new WorkbenchError(
        'SOCKET_ERROR',
        `Could not join ${what}: the system allows no more groups on this socket.`,
        'Join fewer groups, or raise net.ipv4.igmp_max_memberships.',
        { cause },
      );
    default:
      return new WorkbenchError('SOCKET_ERROR', `Could not join ${what}: ${error.message}`, 'Check the group, interface and source.', {
        cause,
      });
  }
}
