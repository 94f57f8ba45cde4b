/** One UDP socket as Linux lists it in /proc/net/udp or /proc/net/udp6. */
export interface ProcUdpSocket {
  /** Canonical text: `127.0.0.1`, `::1`, `::ffff:7f00:1`. */
  readonly address: string;
  readonly port: number;
  /** The socket's inode: what tells two sockets on one address and port apart (`socket:[inode]` in /proc/<pid>/fd). */
  readonly inode: number;
  /** Datagrams the kernel dropped for this socket, mostly because its receive buffer was full. */
  readonly drops: number;
}

/**
 * The sockets in the text of /proc/net/udp (IPv4) or /proc/net/udp6 (IPv6); undefined when the text does not
 * have a `drops` column (another format, or not that file at all). Addresses there are hex in the kernel's byte
 * order: IPv4 one little-endian 32-bit word, IPv6 four of them; the port is plain hex.
 */
export function parseProcNetUdp(text: string): ProcUdpSocket[] | undefined {
  const [header, ...rows] = text.split('\n');
  const columns = header?.trim().split(/\s+/) ?? [];
  if (columns[1] !== 'local_address' || !columns.includes('inode') || columns.at(-1) !== 'drops') return undefined;
  const sockets: ProcUdpSocket[] = [];
  for (const row of rows) {
    const fields = row.trim().split(/\s+/);
    const local = /^([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})$/.exec(fields[1] ?? '');
    // The header names tx_queue and rx_queue apart, a row writes them as one field: count from the end instead.
    const inode = Number(fields.at(-4));
    const drops = Number(fields.at(-1));
    if (!local || !Number.isSafeInteger(inode) || !Number.isSafeInteger(drops)) continue;
    sockets.push({ address: addressFromHex(local[1]), port: parseInt(local[2], 16), inode, drops });
  }
  return sockets;
}

/**
 * The inodes of the sockets listed on `address` and `port`, the most recently bound first (Linux adds a socket at the
 * head of its port's list). Several share a port when each set SO_REUSEADDR: a group listener and another program.
 */
export function inodesOn(sockets: readonly ProcUdpSocket[], address: string, port: number): number[] {
  const wanted = canonicalAddress(address);
  return sockets.filter((socket) => socket.port === port && socket.address === wanted).map((socket) => socket.inode);
}

/** The inode a `/proc/<pid>/fd` link names when the descriptor is a socket (`socket:[12345]`), else undefined. */
export function socketInode(link: string): number | undefined {
  const match = /^socket:\[(\d+)\]$/.exec(link);
  return match ? Number(match[1]) : undefined;
}

/** One spelling per address, so `0:0:0:0:0:0:0:1` and `::1` match; an IPv6 zone (`%eth0`) is not listed by the kernel. */
export function canonicalAddress(address: string): string {
  if (!address.includes(':')) return address;
  // The URL parser writes IPv6 the RFC 5952 way: lowercase, longest run of zero groups as `::`.
  const withoutZone = address.replace(/%.*$/, '');
  try {
    return new URL(`udp://[${withoutZone}]`).hostname.slice(1, -1);
  } catch {
    return withoutZone;
  }
}

function addressFromHex(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = Buffer.alloc(words.length * 4);
  words.forEach((word, i) => bytes.writeUInt32LE(parseInt(word, 16), i * 4));
  if (bytes.length === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(i * 2).toString(16));
  return canonicalAddress(groups.join(':'));
}
