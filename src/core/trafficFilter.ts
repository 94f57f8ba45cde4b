import type { RecordedDatagram } from './captureRecorder';
import { formatEndpoint } from './endpoint';
import type { TrafficFate } from '../webview/messages';

const FATES: ReadonlySet<string> = new Set<TrafficFate>([
  'received',
  'sent',
  'replied',
  'reply',
  'dropped',
  'rate-limited',
  'timed-out',
  'duplicated',
  'delayed',
  'forwarded',
  'corrupted',
]);

export type DatagramTest = (datagram: RecordedDatagram) => boolean;

export interface TrafficFilter {
  readonly matches: DatagramTest;
  /** Why a term was not understood; those terms are left out. */
  readonly error: string | undefined;
}

/**
 * The filter box: space-separated terms, all of which must hold. `in` / `out`, a fate (`dropped`, `timed-out`…),
 * `port:9000`, `peer:10.0.0.7` (part of the peer's address), `hex:de ad` or `0xdead` (bytes in the payload),
 * `"two words"` or any other word (text in the payload, or part of either address).
 */
export function parseTrafficFilter(text: string): TrafficFilter {
  const tests: DatagramTest[] = [];
  const errors: string[] = [];
  for (const [, quoted, word] of text.matchAll(/"([^"]*)"?|(\S+)/g)) {
    const term = quoted ?? word;
    if (quoted !== undefined) {
      if (quoted !== '') tests.push(containsBytes(Buffer.from(quoted)));
      continue;
    }
    const test = parseTerm(term);
    if (typeof test === 'string') errors.push(test);
    else tests.push(test);
  }
  return { matches: (datagram) => tests.every((test) => test(datagram)), error: errors.length > 0 ? errors.join(' ') : undefined };
}

function parseTerm(term: string): DatagramTest | string {
  const lower = term.toLowerCase();
  if (lower === 'in' || lower === 'out') return (d) => d.direction === lower;
  if (FATES.has(lower)) return (d) => d.fate === lower;
  const [, key, value] = /^(port|peer|hex|fate|dir):(.*)$/i.exec(term) ?? [];
  if (key === undefined && /^0x[0-9a-f]+$/i.test(term)) return parseHex(term.slice(2), term);
  switch (key?.toLowerCase()) {
    case undefined:
      return matchesText(term);
    case 'port': {
      const port = Number(value);
      if (!/^\d{1,5}$/.test(value) || port > 65535) return `"${term}": a port is a number from 0 to 65535.`;
      return (d) => d.source.port === port || d.destination.port === port;
    }
    case 'peer':
      return (d) =>
        formatEndpoint(d.direction === 'in' ? d.source : d.destination)
          .toLowerCase()
          .includes(value.toLowerCase());
    case 'hex':
      return parseHex(value, term);
    case 'fate':
      return FATES.has(value.toLowerCase())
        ? (d) => d.fate === value.toLowerCase()
        : `"${term}": a fate is one of ${[...FATES].join(', ')}.`;
    default: {
      // In any case, as `in` and `out` alone are.
      const direction = value.toLowerCase();
      return direction === 'in' || direction === 'out' ? (d) => d.direction === direction : `"${term}": a direction is in or out.`;
    }
  }
}

function parseHex(digits: string, term: string): DatagramTest | string {
  const clean = digits.replace(/[\s:,]/g, '');
  if (clean === '' || clean.length % 2 !== 0 || !/^[0-9a-f]+$/i.test(clean)) {
    return `"${term}": hex bytes are pairs of 0-9 and a-f, such as hex:de:ad:be:ef or 0xdeadbeef.`;
  }
  return containsBytes(Buffer.from(clean, 'hex'));
}

function containsBytes(bytes: Buffer): DatagramTest {
  return (d) => d.payload.includes(bytes);
}

function matchesText(text: string): DatagramTest {
  const bytes = Buffer.from(text);
  const lower = text.toLowerCase();
  return (d) =>
    d.payload.includes(bytes) ||
    formatEndpoint(d.source).toLowerCase().includes(lower) ||
    formatEndpoint(d.destination).toLowerCase().includes(lower);
}
