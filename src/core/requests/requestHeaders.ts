import { parseEndpoint, type Endpoint } from '../endpoint';
import { isWorkbenchError, quoteInput } from '../errors';
import { parseExpectation, type Expectation } from './expectation';
import { BURST_LIMITS, GROUP_LIMITS, SEND_LIMITS } from '../limits';
import type { PayloadEncoding } from '../payload';
import { formatCount } from '../stats';

/**
 * The values of a `.udp` block's header lines (`@target 127.0.0.1:12345`): one reader per header, each
 * saying what it accepts when the value is wrong.
 */

export interface HeaderValues {
  target: Endpoint;
  /** `utf8` in the file is text with escapes (\n, \t, \xHH): the `escaped` encoding. */
  encoding: PayloadEncoding;
  timeout: number;
  retries: number;
  expect: Expectation;
  repeat: number;
  rate: number;
  /** `@tag off`: a burst's datagrams go without their 8-byte tag, and replies are counted by order. */
  tag: boolean;
  /** Hops a datagram to a group may take (IPv6: hop limit); 0 keeps it on this machine. */
  ttl: number;
  /** Whether this machine's own members of the group receive it. */
  loopback: boolean;
  /** The interface a datagram to a group leaves by: a name or an address. */
  interface: string;
  /** `@broadcast on`: sending to a broadcast address is allowed. */
  broadcast: boolean;
}

export type HeaderName = keyof HeaderValues;

/** `end` is where the value stopped; only spaces or a `# comment` may follow. */
export type HeaderReading<T> = { readonly value: T; readonly end: number } | HeaderMistake;
export interface HeaderMistake {
  readonly message: string;
  readonly start: number;
  readonly end: number;
}

type Reader<T> = (text: string, start: number) => HeaderReading<T>;

const ENCODINGS: Record<string, PayloadEncoding> = { utf8: 'escaped', hex: 'hex', base64: 'base64' };

const READERS: { readonly [Name in HeaderName]: Reader<HeaderValues[Name]> } = {
  target: word<Endpoint>('a target', (text, start, end) => {
    try {
      return { value: parseEndpoint(text.slice(start, end)), end };
    } catch (err) {
      if (!isWorkbenchError(err)) throw err;
      const at = start + Math.min(err.offset ?? 0, end - start - 1);
      return { message: err.text, start: at, end };
    }
  }),
  encoding: word<PayloadEncoding>('an encoding', (text, start, end) => {
    const name = text.slice(start, end);
    if (Object.hasOwn(ENCODINGS, name)) return { value: ENCODINGS[name], end };
    return {
      message: `Unknown @encoding ${quoteInput(name)}: write utf8 (text; \\n, \\t and \\xHH escapes work), hex or base64.`,
      start,
      end,
    };
  }),
  timeout: word<number>('a time', (text, start, end) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.slice(start, end));
    const ms = match ? Number(match[1]) * (match[2] === 's' ? 1000 : 1) : NaN;
    if (ms >= SEND_LIMITS.minTimeoutMs && ms <= SEND_LIMITS.maxTimeoutMs) return { value: ms, end };
    return {
      message: `Bad @timeout ${quoteInput(text.slice(start, end))}: write milliseconds like 500 or 500ms, or seconds like 2s (${SEND_LIMITS.minTimeoutMs} ms to ${SEND_LIMITS.maxTimeoutMs / 1000} s).`,
      start,
      end,
    };
  }),
  retries: wholeNumber('@retries', 'how many times to send again', SEND_LIMITS.minRetries, SEND_LIMITS.maxRetries),
  expect: (text, start) => {
    const parsed = parseExpectation(text, start);
    return 'expectation' in parsed ? { value: parsed.expectation, end: parsed.end } : parsed;
  },
  repeat: wholeNumber('@repeat', 'how many datagrams to send', BURST_LIMITS.minCount, BURST_LIMITS.maxCount),
  rate: word<number>('a rate', (text, start, end) => {
    const match = /^(\d+(?:\.\d+)?)\/s$/.exec(text.slice(start, end));
    const perSecond = match ? Number(match[1]) : NaN;
    if (perSecond >= BURST_LIMITS.minRate && perSecond <= BURST_LIMITS.maxRate) return { value: perSecond, end };
    return {
      message: `Bad @rate ${quoteInput(text.slice(start, end))}: write datagrams per second like 200/s (from ${BURST_LIMITS.minRate}/s to ${BURST_LIMITS.maxRate}/s).`,
      start,
      end,
    };
  }),
  tag: onOff('@tag', "write off to send a burst's datagrams without their 8-byte tag (replies are then counted by order), or on"),
  ttl: wholeNumber(
    '@ttl',
    'how many hops a datagram to a group may take (0 keeps it on this machine, 1 on this network)',
    0,
    GROUP_LIMITS.maxTtl,
  ),
  loopback: onOff('@loopback', "write off so that this machine's own members of the group do not receive it, or on"),
  interface: word<string>('an interface', (text, start, end) => ({ value: text.slice(start, end), end })),
  broadcast: onOff('@broadcast', 'write on to allow sending to a broadcast address, or off'),
};

export const HEADER_NAMES = Object.keys(READERS) as HeaderName[];

export function isHeaderName(name: string): name is HeaderName {
  return Object.hasOwn(READERS, name);
}

/**
 * Reads a header's value from `text` (what follows `@name`, file variables filled in). Checks that only a
 * `# comment` follows it. Positions are offsets into `text`.
 */
export function readHeader<Name extends HeaderName>(name: Name, text: string): HeaderReading<HeaderValues[Name]> {
  const start = text.length - text.trimStart().length;
  if (start === text.length || text[start] === '#') {
    return { message: `@${name} needs a value: ${EXAMPLES[name]}.`, start: 0, end: Math.max(1, start) };
  }
  if (start === 0) return { message: `Put a space between @${name} and its value.`, start: 0, end: 1 };
  const reading = READERS[name](text, start);
  if ('message' in reading) return reading;
  const rest = text.slice(reading.end);
  if (/^\s*$/.test(rest) || /^\s+#/.test(rest)) return reading;
  const extra = reading.end + (rest.length - rest.trimStart().length);
  return { message: `Unexpected text after the value of @${name}: a comment starts with " #".`, start: extra, end: text.trimEnd().length };
}

const EXAMPLES: Record<HeaderName, string> = {
  target: '@target 127.0.0.1:12345',
  encoding: '@encoding utf8, hex or base64',
  timeout: '@timeout 500 (ms) or @timeout 2s',
  retries: '@retries 2',
  expect: '@expect contains "…", equals "…", matches /…/, hex "…", size N or none',
  repeat: '@repeat 1000',
  rate: '@rate 200/s',
  tag: '@tag off (a burst counts replies by order) or @tag on',
  ttl: '@ttl 1 (hops a datagram to a group may take)',
  loopback: '@loopback on or off',
  interface: '@interface eth0 (or an address of this machine)',
  broadcast: '@broadcast on',
};

/** A value without spaces: the reader gets its bounds. */
function word<T>(what: string, read: (text: string, start: number, end: number) => HeaderReading<T>): Reader<T> {
  return (text, start) => {
    const end = text.slice(start).search(/\s|$/) + start;
    if (end === start) return { message: `Expected ${what}.`, start, end: start + 1 };
    return read(text, start, end);
  };
}

function onOff(header: string, meaning: string): Reader<boolean> {
  return word<boolean>('on or off', (text, start, end) => {
    const value = text.slice(start, end);
    if (value === 'on' || value === 'off') return { value: value === 'on', end };
    return { message: `Bad ${header} ${quoteInput(value)}: ${meaning}.`, start, end };
  });
}

function wholeNumber(header: string, meaning: string, min: number, max: number): Reader<number> {
  return word<number>('a number', (text, start, end) => {
    const digits = text.slice(start, end);
    const value = /^\d{1,7}$/.test(digits) ? Number(digits) : NaN;
    if (value >= min && value <= max) return { value, end };
    return {
      message: `Bad ${header} ${quoteInput(text.slice(start, end))}: write ${meaning}, a whole number from ${formatCount(min)} to ${formatCount(max)}.`,
      start,
      end,
    };
  });
}
