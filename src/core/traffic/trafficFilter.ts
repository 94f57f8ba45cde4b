import type { RecordedDatagram } from '../capture/captureBuffer';
import { formatEndpoint } from '../endpoint';
import { TRAFFIC_LIMITS } from '../limits';
import { formatCount } from '../stats';
import { TRAFFIC_FATES, type TrafficFate } from '../capture/datagramFate';

const FATES: ReadonlySet<string> = new Set<TrafficFate>(TRAFFIC_FATES);

const KEYS = ['port', 'peer', 'hex', 'fate', 'dir'] as const;

export type DatagramTest = (datagram: RecordedDatagram) => boolean;

const matchesAll: DatagramTest = () => true;

export interface TrafficFilter {
  readonly matches: DatagramTest;
  /** Why a term was not understood; those terms are left out. */
  readonly error: string | undefined;
}

/**
 * The filter box: space-separated terms, all of which must hold. `in` / `out`, a fate (`dropped`, `timed-out`…),
 * `port:9000`, `peer:10.0.0.7` (part of the peer's address), `hex:de ad` or `0xdead` (bytes in the payload),
 * `"two words"` or any other word (text in the payload, or part of either address). A word that looks like a key
 * (`prot:9000`) but names none is refused, not searched for: a typo would silently match nothing. Each term is
 * prepared once (lowercased, decoded), so testing a datagram costs its own size, whatever the filter's. A filter
 * longer than TRAFFIC_LIMITS.maxFilterLength is not applied, and says so.
 */
export function parseTrafficFilter(text: string): TrafficFilter {
  const max = TRAFFIC_LIMITS.maxFilterLength;
  if (text.length > max) {
    return {
      matches: () => true,
      error: `The filter is ${formatCount(text.length)} characters long, over the ${formatCount(max)} it takes, so it is not applied: shorten it to the few terms that tell the datagrams apart.`,
    };
  }
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
  const error = errors.length > 0 ? errors.join(' ') : undefined;
  // Tested against every datagram that arrives while the view is open: no closure made per datagram.
  if (tests.length === 0) return { matches: matchesAll, error };
  return {
    matches: (datagram) => {
      for (const test of tests) if (!test(datagram)) return false;
      return true;
    },
    error,
  };
}

function parseTerm(term: string): DatagramTest | string {
  const lower = term.toLowerCase();
  if (lower === 'in' || lower === 'out') return (d) => d.direction === lower;
  if (FATES.has(lower)) return (d) => d.fate === lower;
  const [, key, value] = /^([a-z]+):(.*)$/i.exec(term) ?? [];
  if (key === undefined && /^0x[0-9a-f]+$/i.test(term)) return parseHex(term.slice(2), term);
  switch (key?.toLowerCase()) {
    case undefined:
      return matchesText(term);
    case 'port': {
      const port = Number(value);
      if (!/^\d{1,5}$/.test(value) || port > 65535) return `"${term}": a port is a number from 0 to 65535.`;
      return (d) => d.source.port === port || d.destination.port === port;
    }
    case 'peer': {
      const part = value.toLowerCase();
      return (d) =>
        formatEndpoint(d.direction === 'in' ? d.source : d.destination)
          .toLowerCase()
          .includes(part);
    }
    case 'hex':
      return parseHex(value, term);
    case 'fate': {
      const fate = value.toLowerCase();
      return FATES.has(fate) ? (d) => d.fate === fate : `"${term}": a fate is one of ${[...FATES].join(', ')}.`;
    }
    case 'dir': {
      // In any case, as `in` and `out` alone are.
      const direction = value.toLowerCase();
      return direction === 'in' || direction === 'out' ? (d) => d.direction === direction : `"${term}": a direction is in or out.`;
    }
    default:
      return unknownKey(term, key);
  }
}

/** Names the key it does not know, the closest one it does, and how to search for the text instead. */
function unknownKey(term: string, key: string): string {
  const lower = key.toLowerCase();
  const near = KEYS.find((known) => [...known].sort().join('') === [...lower].sort().join('') || editsApart(known, lower) <= 1);
  return `"${term}": there is no key ${key}${near ? ` (did you mean ${near}:?)` : ''}; the keys are ${KEYS.join(', ')}. For the text itself, put it in quotes.`;
}

/** Levenshtein distance, for words of a few letters. */
function editsApart(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
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
