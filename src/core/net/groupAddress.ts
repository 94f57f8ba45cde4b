/** Which addresses are groups (multicast, broadcast) and which interface carries them. */
import { BlockList, isIP } from 'node:net';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';
import { quoteInput, WorkbenchError } from '../errors';

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

/**
 * Multicast, broadcast (255.255.255.255 or the broadcast address of one of this machine's IPv4 networks, loopback's
 * 127.255.255.255 included: the system routes it as a broadcast and refuses it without SO_BROADCAST), or neither.
 */
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
/** Every interface's IPv4 networks that have a broadcast address: a /31 or /32 has none (RFC 3021). */
function ipv4Networks(interfaces: InterfaceTable): Array<{ address: string; broadcast: string }> {
  return addressesOf(interfaces)
    .filter((info) => info.family === 'IPv4')
    .map((info) => ({ info, hostBits: ~toNumber(info.netmask) >>> 0 }))
    .filter(({ hostBits }) => hostBits >= 3)
    .map(({ info, hostBits }) => ({ address: info.address, broadcast: fromNumber((toNumber(info.address) | hostBits) >>> 0) }));
}

/** An IPv4 address as a 32-bit number. */
export function toNumber(ipv4: string): number {
  return ipv4.split('.').reduce((sum, part) => ((sum << 8) | Number(part)) >>> 0, 0);
}

/** A 32-bit number as a dotted IPv4 address. */
export function fromNumber(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
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
