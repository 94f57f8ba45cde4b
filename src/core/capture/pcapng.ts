import { isIPv4, isIPv6 } from 'node:net';

/**
 * A pcapng writer (https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-03.html), little-endian: one
 * section, one raw-IP interface, one Enhanced Packet Block per datagram. Our sockets never see IP or UDP
 * headers, so each datagram gets synthetic ones carrying its real addresses, ports and lengths, with valid
 * checksums, so Wireshark decodes it without a warning.
 */

/** Raw IP: the version nibble tells IPv4 from IPv6, so one interface carries both. */
export const LINKTYPE_RAW = 101;
/** Timestamps in microseconds (10^-6 s). */
export const TIMESTAMP_RESOLUTION = 6;

const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE = 0x00000001;
const BLOCK_ENHANCED_PACKET = 0x00000006;
const BLOCK_INTERFACE_STATISTICS = 0x00000005;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USER_APPLICATION = 4;
const IF_NAME = 2;
const IF_TSRESOL = 9;
const ISB_IFRECV = 4;
const ISB_IFDROP = 5;

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;
const PROTOCOL_UDP = 17;
const HOP_LIMIT = 64;

/** Where a datagram came from or went to. */
export interface CaptureAddress {
  readonly address: string;
  readonly port: number;
}

/** One datagram as it was on the wire, and what Wireshark cannot know about it. */
export interface CapturedDatagram {
  /** Microseconds since the Unix epoch. */
  readonly atMicros: number;
  readonly source: CaptureAddress;
  readonly destination: CaptureAddress;
  readonly payload: Buffer;
  /** What the workbench did with it ("dropped by simulation…"); absent when there is nothing to say. */
  readonly comment?: string;
}

/** The Section Header Block and the one Interface Description Block every capture starts with. */
export function captureHeader(application: string): Buffer {
  const section = Buffer.alloc(16);
  section.writeUInt32LE(BYTE_ORDER_MAGIC, 0);
  section.writeUInt16LE(1, 4);
  section.writeUInt16LE(0, 6);
  // Section length -1: not given, so the file can be written as it grows.
  section.writeBigInt64LE(-1n, 8);
  const sectionOptions = options([[SHB_USER_APPLICATION, Buffer.from(application, 'utf8')]]);

  const iface = Buffer.alloc(8);
  iface.writeUInt16LE(LINKTYPE_RAW, 0);
  // Snap length 0: packets are never cut.
  iface.writeUInt32LE(0, 4);
  const ifaceOptions = options([
    [IF_NAME, Buffer.from('udp-workbench', 'utf8')],
    [IF_TSRESOL, Buffer.from([TIMESTAMP_RESOLUTION])],
  ]);
  return Buffer.concat([block(BLOCK_SECTION_HEADER, [section, sectionOptions]), block(BLOCK_INTERFACE, [iface, ifaceOptions])]);
}

/** One Enhanced Packet Block on interface 0: the datagram inside synthetic IP and UDP headers, and its comment. */
export function packetBlock(datagram: CapturedDatagram): Buffer {
  const packet = ipPacket(datagram.source, datagram.destination, datagram.payload);
  const fields = interfaceAndTime(datagram.atMicros, 20);
  fields.writeUInt32LE(packet.length, 12);
  fields.writeUInt32LE(packet.length, 16);
  const comment = datagram.comment ? options([[OPT_COMMENT, Buffer.from(datagram.comment, 'utf8')]]) : Buffer.alloc(0);
  return block(BLOCK_ENHANCED_PACKET, [fields, padded(packet), comment]);
}

/** What a capture's closing record says: every datagram it saw, those not in the file, and why. */
export interface CaptureTally {
  /** Microseconds since the Unix epoch. */
  readonly atMicros: number;
  readonly seen: number;
  readonly leftOut: number;
  readonly comment: string;
}

/**
 * An Interface Statistics Block for interface 0: datagrams seen (isb_ifrecv), those not in the file (isb_ifdrop)
 * and a comment that says which and why, the one place a reader learns of datagrams missing at the very end.
 */
export function statisticsBlock(tally: CaptureTally): Buffer {
  const fields = interfaceAndTime(tally.atMicros, 12);
  const count = (value: number): Buffer => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(value));
    return bytes;
  };
  const list = options([
    [OPT_COMMENT, Buffer.from(tally.comment, 'utf8')],
    [ISB_IFRECV, count(tally.seen)],
    [ISB_IFDROP, count(tally.leftOut)],
  ]);
  return block(BLOCK_INTERFACE_STATISTICS, [fields, list]);
}

/** A block's first fields: interface 0, then the timestamp as two 32-bit halves; `size` leaves room for more. */
function interfaceAndTime(atMicros: number, size: number): Buffer {
  const fields = Buffer.alloc(size);
  const micros = BigInt(Math.round(atMicros));
  fields.writeUInt32LE(0, 0);
  fields.writeUInt32LE(Number(micros >> 32n), 4);
  fields.writeUInt32LE(Number(micros & 0xffffffffn), 8);
  return fields;
}

/**
 * The IP packet a UDP datagram travelled in. When one side is IPv4 and the other IPv6 (a dual-stack socket),
 * the IPv4 address is written IPv4-mapped (::ffff:a.b.c.d), as the IPv6 socket saw it.
 */
export function ipPacket(source: CaptureAddress, destination: CaptureAddress, payload: Buffer): Buffer {
  const v4 = isIPv4(source.address) && isIPv4(destination.address);
  const from = v4 ? ipv4Bytes(source.address) : ipv6Bytes(source.address);
  const to = v4 ? ipv4Bytes(destination.address) : ipv6Bytes(destination.address);
  const maxPayload = 0xffff - UDP_HEADER - (v4 ? IPV4_HEADER : 0);
  if (payload.length > maxPayload) {
    throw new RangeError(`A UDP datagram over ${v4 ? 'IPv4' : 'IPv6'} carries at most ${maxPayload} bytes, not ${payload.length}.`);
  }
  const udp = udpDatagram(source.port, destination.port, payload, from, to);
  return Buffer.concat([v4 ? ipv4Header(from, to, udp.length) : ipv6Header(from, to, udp.length), udp]);
}

function udpDatagram(sourcePort: number, destinationPort: number, payload: Buffer, from: Buffer, to: Buffer): Buffer {
  const length = UDP_HEADER + payload.length;
  const datagram = Buffer.alloc(length);
  datagram.writeUInt16BE(sourcePort, 0);
  datagram.writeUInt16BE(destinationPort, 2);
  datagram.writeUInt16BE(length, 4);
  payload.copy(datagram, UDP_HEADER);
  // The pseudo-header (RFC 768, RFC 8200 8.1): addresses, protocol and UDP length. Its layout differs by
  // family, but its one's-complement sum is the same either way.
  const pseudo = Buffer.alloc(4);
  pseudo.writeUInt16BE(PROTOCOL_UDP, 0);
  pseudo.writeUInt16BE(length, 2);
  const sum = internetChecksum([from, to, pseudo, datagram]);
  // 0 means "no checksum" in UDP: a computed 0 is sent as its other one's-complement form.
  datagram.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
  return datagram;
}

function ipv4Header(from: Buffer, to: Buffer, udpLength: number): Buffer {
  const header = Buffer.alloc(IPV4_HEADER);
  header.writeUInt8(0x45, 0);
  header.writeUInt16BE(IPV4_HEADER + udpLength, 2);
  // Don't Fragment: each datagram is one whole packet.
  header.writeUInt16BE(0x4000, 6);
  header.writeUInt8(HOP_LIMIT, 8);
  header.writeUInt8(PROTOCOL_UDP, 9);
  from.copy(header, 12);
  to.copy(header, 16);
  header.writeUInt16BE(internetChecksum([header]), 10);
  return header;
}

function ipv6Header(from: Buffer, to: Buffer, udpLength: number): Buffer {
  const header = Buffer.alloc(IPV6_HEADER);
  header.writeUInt32BE(0x60000000, 0);
  header.writeUInt16BE(udpLength, 4);
  header.writeUInt8(PROTOCOL_UDP, 6);
  header.writeUInt8(HOP_LIMIT, 7);
  from.copy(header, 8);
  to.copy(header, 24);
  return header;
}

/** RFC 1071: the one's complement of the one's-complement sum of 16-bit big-endian words; each part even-length but the last. */
export function internetChecksum(parts: readonly Buffer[]): number {
  let sum = 0;
  for (const part of parts) {
    const even = part.length & ~1;
    for (let i = 0; i < even; i += 2) sum += part.readUInt16BE(i);
    if (even < part.length) sum += part[even] << 8;
    sum = fold(sum);
  }
  while (sum > 0xffff) sum = fold(sum);
  return ~sum & 0xffff;
}

function fold(sum: number): number {
  return (sum % 0x10000) + Math.floor(sum / 0x10000);
}

function ipv4Bytes(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

/** 16 bytes of an IPv6 address (zone dropped); an IPv4 address becomes IPv4-mapped. */
export function ipv6Bytes(text: string): Buffer {
  if (isIPv4(text)) return Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), ipv4Bytes(text)]);
  const address = text.split('%')[0];
  if (!isIPv6(address)) throw new RangeError(`${JSON.stringify(text)} is not an IP address.`);
  const words = (groups: string): number[] => {
    if (groups === '') return [];
    return groups.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)];
      const [a, b, c, d] = ipv4Bytes(group);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const [head, tail] = address.split('::');
  const headWords = words(head);
  const tailWords = tail === undefined ? [] : words(tail);
  const all = [...headWords, ...new Array<number>(8 - headWords.length - tailWords.length).fill(0), ...tailWords];
  const bytes = Buffer.alloc(16);
  all.forEach((word, i) => bytes.writeUInt16BE(word, i * 2));
  return bytes;
}

/** Options, each padded to 32 bits, then end-of-options; nothing at all when there are none. */
function options(list: ReadonlyArray<readonly [number, Buffer]>): Buffer {
  if (list.length === 0) return Buffer.alloc(0);
  const parts = list.flatMap(([code, value]) => {
    const head = Buffer.alloc(4);
    head.writeUInt16LE(code, 0);
    head.writeUInt16LE(value.length, 2);
    return [head, padded(value)];
  });
  const end = Buffer.alloc(4);
  end.writeUInt16LE(OPT_END, 0);
  return Buffer.concat([...parts, end]);
}

function padded(bytes: Buffer): Buffer {
  const padding = (4 - (bytes.length % 4)) % 4;
  return padding === 0 ? bytes : Buffer.concat([bytes, Buffer.alloc(padding)]);
}

/** type, total length, body, total length again. */
function block(type: number, body: readonly Buffer[]): Buffer {
  const bodyLength = body.reduce((sum, part) => sum + part.length, 0);
  const total = 12 + bodyLength;
  const head = Buffer.alloc(8);
  head.writeUInt32LE(type, 0);
  head.writeUInt32LE(total, 4);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(total, 0);
  return Buffer.concat([head, ...body, tail], total);
}
