import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

/** One packet as Wireshark decoded it. */
export interface DecodedPacket {
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  /** The UDP payload, hex. */
  payload: string;
  comment: string;
  /** Wireshark's own checksum verdicts: "1" is good; the IPv4 one is empty for IPv6. */
  ipChecksum: string;
  udpChecksum: string;
  /** Seconds since the Unix epoch, as Wireshark reads the timestamp. */
  time: number;
}

/** Validating both checksums, so a wrong one is an error in the expert info and a bad status below. */
const CHECKSUMS = ['-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

/** Wireshark's command line, the oracle: a test that needs it fails, never skips, when it is missing. */
export function tshark(args: readonly string[]): string {
  try {
    return execFileSync('tshark', ['-n', ...CHECKSUMS, ...args], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      assert.fail(
        "tshark is not installed: these tests read captures back with Wireshark's tshark. Run `node test/host/setup.mjs` (installs Debian's tshark), or `apt-get install tshark`.",
      );
    }
    throw err;
  }
}

/**
 * Every packet of a capture file. The payload is `udp.payload`, not `data.data`: Wireshark hands a datagram on a
 * port it knows (or guesses) to that protocol's dissector, and `data.data` is then empty.
 */
export function readCapture(file: string): DecodedPacket[] {
  const fields = [
    'ip.src',
    'ipv6.src',
    'ip.dst',
    'ipv6.dst',
    'udp.srcport',
    'udp.dstport',
    'udp.payload',
    'frame.comment',
    'ip.checksum.status',
    'udp.checksum.status',
    'frame.time_epoch',
  ];
  const out = tshark(['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', ...fields.flatMap((field) => ['-e', field])]);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [ip4src, ip6src, ip4dst, ip6dst, sourcePort, destinationPort, payload, comment, ipChecksum, udpChecksum, time] =
        line.split('\t');
      return {
        source: ip4src || ip6src,
        destination: ip4dst || ip6dst,
        sourcePort: Number(sourcePort),
        destinationPort: Number(destinationPort),
        payload: payload.replace(/:/g, ''),
        comment,
        ipChecksum,
        udpChecksum,
        time: Number(time),
      };
    });
}

/**
 * The expert info's warnings and errors (comments and chats are fine: our packet comments are comments). Every port
 * in the capture is decoded as plain data: tests use ephemeral ports, and one that Wireshark knows (BACnet's 47808,
 * mDNS's 5353, …) would have our text judged as that protocol's malformed packet, a verdict on the test's payload, not on
 * the file.
 */
export function expertProblems(file: string): string[] {
  const ports = new Set(readCapture(file).flatMap((p) => [p.sourcePort, p.destinationPort]));
  const asData = [...ports].flatMap((port) => ['-d', `udp.port==${port},data`]);
  const out = tshark(['-r', file, ...asData, '-q', '-z', 'expert']);
  return out.split('\n').filter((line) => /^\s*(Errors|Warns)\s*\(/.test(line));
}
