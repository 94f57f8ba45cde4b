import type * as dgram from 'node:dgram';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { formatEndpoint, parseEndpoint } from './endpoint';
import { quoteInput, WorkbenchError } from './errors';
import { GROUP_LIMITS } from './limits';
import { formatCount } from './stats';

/** How a datagram to a group or a broadcast address leaves: `@ttl`, `@loopback`, `@interface`, `@broadcast`. */
export interface GroupSendOptions {
  /** Hops it may take (IPv6: the hop limit); default 1, this network segment; 0 keeps it on this machine. */
  readonly ttl?: number;
  /** Default true: listeners on this machine receive it too. */
  readonly loopback?: boolean;
  /** Name (`eth0`) or address of the interface it leaves by; default: the system's choice. */
  readonly interface?: string;
  /** Sending to a broadcast address is refused without it, as Node refuses it. */
  readonly broadcast?: boolean;
}

/** The send settings for groups; a `.udp` block's headers override them. */
export interface GroupSendDefaults {
  readonly allowBroadcast?: boolean;
  readonly multicastTtl?: number;
  readonly multicastLoopback?: boolean;
  /** Empty: the system's choice. */
  readonly multicastInterface?: string;
}

/** The settings, with what a block (or a caller) says instead. */
export function groupSendOptions(defaults: GroupSendDefaults, overrides: GroupSendOptions = {}): GroupSendOptions {
  return {
    ttl: overrides.ttl ?? defaults.multicastTtl,
    loopback: overrides.loopback ?? defaults.multicastLoopback,
    interface: overrides.interface ?? (defaults.multicastInterface || undefined),
    broadcast: overrides.broadcast ?? defaults.allowBroadcast,
  };
}

/** One group a server listens on. */
export interface GroupMembership {
  /** `239.1.2.3`, `ff02::1234%lo` (the zone names the interface). */
  readonly group: string;
  /** Name or address of the interface to join on; default: the zone, or the system's choice. */
  readonly interface?: string;
  /** Source-specific membership: only datagrams from this address are delivered. */
  readonly source?: string;
}

/** Interfaces by name, as os.networkInterfaces() lists them. */
export type InterfaceTable = NodeJS.Dict<NetworkInterfaceInfo[]>;

export type GroupKind = 'multicast' | 'broadcast';

const multicast = new BlockList();
multicast.addSubnet('224.0.0.0', 4, 'ipv4');
multicast.addSubnet('ff00::', 8, 'ipv6');

/** A multicast group address: 224.0.0.0/4 or ff00::/8 (a zone after % is allowed). */
export function isMulticast(address: string): boolean {
  const { bare } = splitZone(address);
  const family = isIP(bare);
  return family !== 0 && multicast.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** Multicast, broadcast (255.255.255.255 or the broadcast address of one of this machine's IPv4 networks), or neither. */
export function groupKind(address: string, interfaces?: InterfaceTable): GroupKind | undefined {
  if (isMulticast(address)) return 'multicast';
  if (isIP(address) !== 4) return undefined;
  if (address === '255.255.255.255') return 'broadcast';
  // A network with a broadcast address has at least two host bits, all set in it: most unicast sends skip the lookup.
  if ((Number(address.slice(address.lastIndexOf('.') + 1)) & 3) !== 3) return undefined;
  const table = interfaces ?? systemInterfaces();
  return ipv4Networks(table).some((network) => network.broadcast === address) ? 'broadcast' : undefined;
}

/** The system's interfaces; none when it cannot list them (no file descriptor left), and the send then says why. */
function systemInterfaces(): InterfaceTable {
  try {
    return networkInterfaces();
  } catch {
    return {};
  }
}

/** `ff02::1%eth0` → `ff02::1` and `eth0`. */
export function splitZone(address: string): { bare: string; zone?: string } {
  const at = address.indexOf('%');
  return at === -1 ? { bare: address } : { bare: address.slice(0, at), zone: address.slice(at + 1) };
}

/** An IPv6 group of interface-local (ff01) or link-local (ff02) scope exists once per interface: it needs one named. */
function isScoped(bare: string): boolean {
  return isIP(bare) === 6 && /^ff[0-9a-f][12]:/i.test(bare);
}

/**
 * Checks a group or broadcast address and the interface to use with it before any socket does, so each mistake is
 * named with its fix: an interface that does not exist, a scoped IPv6 group without one. Returns the value Node's
 * addMembership and setMulticastInterface take: an IPv4 interface's address, or `::%name` for IPv6.
 */
export function interfaceFor(
  address: string,
  iface: string | undefined,
  interfaces: InterfaceTable = networkInterfaces(),
): string | undefined {
  const { bare, zone } = splitZone(address);
  const family = isIP(bare) === 6 ? 6 : 4;
  if (zone !== undefined && !/^\d+$/.test(zone)) checkInterfaceName(zone, interfaces);
  if (iface === undefined || iface === '') {
    if (zone !== undefined) return `::%${zone}`;
    if (isScoped(bare)) throw scopeMissing(bare, interfaces);
    return undefined;
  }
  return family === 4 ? ipv4Interface(iface, interfaces) : ipv6Interface(iface, interfaces);
}

function ipv4Interface(iface: string, interfaces: InterfaceTable): string {
  if (isIP(iface) === 4) {
    if (addressesOf(interfaces).some((info) => info.address === iface)) return iface;
    throw unknownInterface(iface, interfaces);
  }
  const address = checkInterfaceName(iface, interfaces).find((info) => info.family === 'IPv4')?.address;
  if (address !== undefined) return address;
  throw new WorkbenchError(
    'UNKNOWN_INTERFACE',
    `The interface ${quoteInput(iface)} has no IPv4 address, so it cannot carry an IPv4 group.`,
    `Use an interface with an IPv4 address (${describeInterfaces(interfaces)}), or an IPv6 group.`,
  );
}

function ipv6Interface(iface: string, interfaces: InterfaceTable): string {
  if (isIP(iface) === 6) {
    const { bare } = splitZone(iface);
    const name = Object.keys(interfaces).find((key) => interfaces[key]?.some((info) => info.address === bare));
    if (name === undefined) throw unknownInterface(iface, interfaces);
    return `::%${name}`;
  }
  checkInterfaceName(iface, interfaces);
  return `::%${iface}`;
}

function checkInterfaceName(name: string, interfaces: InterfaceTable): NetworkInterfaceInfo[] {
  const found = Object.hasOwn(interfaces, name) ? interfaces[name] : undefined;
  if (found === undefined) throw unknownInterface(name, interfaces);
  return found;
}

function unknownInterface(name: string, interfaces: InterfaceTable): WorkbenchError {
  return new WorkbenchError(
    'UNKNOWN_INTERFACE',
    `This machine has no network interface ${quoteInput(name)}.`,
    `Name one it has (${describeInterfaces(interfaces)}), or leave the interface out to let the system choose.`,
  );
}

function scopeMissing(bare: string, interfaces: InterfaceTable): WorkbenchError {
  const scope = /^ff[0-9a-f]1:/i.test(bare) ? 'an interface-local' : 'a link-local';
  const example = Object.keys(interfaces)[0] ?? 'eth0';
  return new WorkbenchError(
    'SCOPE_ID_MISSING',
    `${bare} is ${scope} IPv6 group: it exists once on every interface, and the address does not say which.`,
    `Add the interface after %, e.g. ${bare}%${example} ([${bare}%${example}]:5000 with a port), or name it with @interface (interfaces here: ${describeInterfaces(interfaces)}).`,
  );
}

/** "lo, eth0 (10.0.0.2)": names, with an IPv4 address where there is one. */
function describeInterfaces(interfaces: InterfaceTable): string {
  const names = Object.entries(interfaces).map(([name, infos]) => {
    const ipv4 = infos?.find((info) => info.family === 'IPv4')?.address;
    return ipv4 === undefined ? name : `${name} ${ipv4}`;
  });
  return names.length > 0 ? names.join(', ') : 'none';
}

function addressesOf(interfaces: InterfaceTable): NetworkInterfaceInfo[] {
  return Object.values(interfaces).flatMap((infos) => infos ?? []);
}

/** Each IPv4 network of this machine with its broadcast address (address with every host bit set). */
function ipv4Networks(interfaces: InterfaceTable): Array<{ address: string; broadcast: string }> {
  return addressesOf(interfaces)
    .filter((info) => info.family === 'IPv4' && !info.internal)
    .map((info) => {
      const address = toNumber(info.address);
      const mask = toNumber(info.netmask);
      return { address: info.address, broadcast: fromNumber((address | ~mask) >>> 0) };
    });
}

function toNumber(ipv4: string): number {
  return ipv4.split('.').reduce((sum, part) => ((sum << 8) | Number(part)) >>> 0, 0);
}

function fromNumber(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

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

/** ENETUNREACH, ENODEV: nothing tells the system which interface carries multicast. */
export function noMulticastRoute(doing: string, cause: unknown): WorkbenchError {
  return new WorkbenchError(
    'NO_MULTICAST_ROUTE',
    `${doing}: this machine has no route for multicast (no interface that carries it was named, and no route says which).`,
    'Name the interface (@interface eth0 in a .udp file, "on eth0" when joining, or the Multicast Interface setting), or add a route, e.g. "ip route add 224.0.0.0/4 dev eth0".',
    { fix: 'open-settings', cause },
  );
}

/** A broadcast address without permission to broadcast, before the system refuses it with EACCES. */
export function broadcastNotAllowed(target: { address: string; port: number }, cause?: unknown): WorkbenchError {
  return new WorkbenchError(
    'BROADCAST_NOT_ALLOWED',
    `${formatEndpoint(target)} is a broadcast address: every host on the network segment would receive the datagram.`,
    'To send it anyway, add "@broadcast on" to the block of the .udp file, or turn on the Allow Broadcast setting (udpWorkbench.send.allowBroadcast).',
    { fix: 'open-settings', cause },
  );
}
