import { promises as dns } from 'node:dns';
import { BlockList, isIP } from 'node:net';
import { quoteCharAt, quoteInput, WorkbenchError } from './errors';
import { SERVER_LIMITS } from './limits';

/** Where to send or bind: a host name or IP literal (without brackets) and a port. */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** Set when `host` is an IP literal. */
  readonly family?: 4 | 6;
}

export interface EndpointOptions {
  /** Port used when the text has none; without it, a missing port is an error. */
  readonly defaultPort?: number;
  /** Accept port 0, which asks the system for any free port (binding only). */
  readonly allowPortZero?: boolean;
}

/** Largest UDP payload: 65,535 minus the IP header (20 bytes, IPv4 only) and the UDP header (8 bytes). */
export const MAX_DATAGRAM_BYTES = { 4: 65507, 6: 65527 } as const;

const HOST_PORT_EXAMPLE = 'Write host:port, e.g. 127.0.0.1:12345 or [::1]:12345.';
const IPV6_EXAMPLE = 'Put an IPv6 address in brackets before the port, e.g. [::1]:12345.';
const MAX_HOST_NAME = 253;

type Fail = (offset: number, problem: string, hint?: string) => WorkbenchError;

/** Reads `host:port`, `[v6]:port`, `udp://host:port`, or a bare host when `defaultPort` is given. */
export function parseEndpoint(text: string, options: EndpointOptions = {}): Endpoint {
  const fail: Fail = (offset, problem, hint = HOST_PORT_EXAMPLE) =>
    new WorkbenchError('BAD_ENDPOINT', `${quoteInput(text)} is not a valid address: ${problem}.`, hint, { offset });
  let { start, end } = trimmed(text);
  if (start === end) throw new WorkbenchError('BAD_ENDPOINT', 'The address is empty.', HOST_PORT_EXAMPLE, { offset: 0 });
  ({ start, end } = withoutScheme(text, start, end, fail));
  if (start === end) throw fail(start, 'the host is missing');
  const span = { text, start, end, options, fail };
  return text[start] === '[' ? parseBracketed(span) : parseUnbracketed(span);
}

/** Reads a port number: 1–65535, or 0 ("any free port") when `allowZero`. */
export function parsePort(value: string | number, options: { allowZero?: boolean } = {}): number {
  const allowZero = options.allowZero ?? false;
  if (typeof value === 'number') return checkPortRange(value, String(value), allowZero);
  const { start, end } = trimmed(value);
  const fail: Fail = (offset, problem) =>
    new WorkbenchError('BAD_ENDPOINT', `${quoteInput(value)} is not a port number: ${problem}.`, portHint(allowZero), { offset });
  return readPort({ text: value, start, end, fail }, allowZero);
}

/** `127.0.0.1:12345`, `[::1]:9000`; takes an Endpoint or a Node socket address. */
export function formatEndpoint(
  endpoint: { readonly host: string; readonly port: number } | { readonly address: string; readonly port: number },
): string {
  const host = 'host' in endpoint ? endpoint.host : endpoint.address;
  return host.includes(':') ? `[${host}]:${endpoint.port}` : `${host}:${endpoint.port}`;
}

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

const ipv4Mapped = new BlockList();
ipv4Mapped.addSubnet('::ffff:0:0', 96, 'ipv6');

const wildcard = new BlockList();
wildcard.addAddress('0.0.0.0', 'ipv4');
wildcard.addAddress('::', 'ipv6');

/** Only this machine can reach it: 127.0.0.0/8, ::1 (in any spelling, also IPv4-mapped) or `localhost`. */
export function isLoopback(address: string): boolean {
  return /^localhost\.?$/i.test(address) || matches(loopback, address);
}

/**
 * An IPv6 spelling of an IPv4 address (::ffff:a.b.c.d). A dual-stack socket reports real IPv4 peers this way,
 * but anyone can also write it as the source of a native IPv6 packet, so on an IPv6-only socket it is forged.
 */
export function isIPv4Mapped(address: string): boolean {
  return isIP(address) === 6 && ipv4Mapped.check(address, 'ipv6');
}

/** The IPv4 address inside an IPv4-mapped one (::ffff:7f00:1 → 127.0.0.1); other addresses as they are. */
export function unmapIPv4(address: string): string {
  if (!isIPv4Mapped(address)) return address;
  const groups = ipv6Groups(address);
  return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
}

/** The eight 16-bit groups of a valid IPv6 literal (zone dropped, "::" and a dotted IPv4 tail expanded). */
export function ipv6Groups(address: string): number[] {
  const bare = address.split('%')[0];
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined];
  const parse = (part: string | undefined): number[] =>
    part === undefined || part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [parseInt(group, 16)];
          const [a, b, c, d] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const front = parse(head);
  const back = parse(tail);
  return [...front, ...new Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** Binding here listens on every interface: 0.0.0.0 or ::. */
export function isWildcard(address: string): boolean {
  return matches(wildcard, address);
}

/** Where to send, from this machine, to reach a socket bound at `local`: one on every interface is reached on loopback. */
export function sendTargetFor(local: { readonly address: string; readonly port: number; readonly family: 'IPv4' | 'IPv6' }): string {
  const host = isWildcard(local.address) ? (local.family === 'IPv6' ? '::1' : '127.0.0.1') : local.address;
  return formatEndpoint({ host, port: local.port });
}

function matches(list: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && list.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Turns a host name into an address with the system resolver; IP literals are returned as they are. */
export async function resolveHost(host: string, family?: 4 | 6): Promise<{ address: string; family: 4 | 6 }> {
  const literal = isIP(host);
  if (literal === 4 || literal === 6) {
    if (family !== undefined && family !== literal) throw familyMismatch(host, literal, family);
    return { address: host, family: literal };
  }
  // Node answers an empty name with a null address instead of an error.
  if (host.trim() === '') throw unknownHost(host, family, undefined);
  try {
    const found = await dns.lookup(host, { family: family ?? 0 });
    return { address: found.address, family: found.family === 6 ? 6 : 4 };
  } catch (err) {
    throw unknownHost(host, family, err);
  }
}

interface Span {
  readonly text: string;
  readonly start: number;
  readonly end: number;
  readonly fail: Fail;
}

interface EndpointSpan extends Span {
  readonly options: EndpointOptions;
}

function trimmed(text: string): { start: number; end: number } {
  const start = text.length - text.trimStart().length;
  return { start, end: Math.max(start, text.trimEnd().length) };
}

function withoutScheme(text: string, start: number, end: number, fail: Fail): { start: number; end: number } {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text.slice(start, Math.min(end, start + 40)));
  if (!scheme) return { start, end };
  if (scheme[1].toLowerCase() !== 'udp') {
    throw fail(start, `${scheme[0]} is not UDP`, 'Write udp://host:port or just host:port, e.g. 127.0.0.1:12345.');
  }
  // URLs copied from players and tools often end in a slash: "udp://239.0.0.1:1234/".
  const hostStart = start + scheme[0].length;
  return { start: hostStart, end: end > hostStart && text[end - 1] === '/' ? end - 1 : end };
}

function parseBracketed(span: EndpointSpan): Endpoint {
  const { text, start, end, fail } = span;
  const close = text.indexOf(']', start);
  if (close === -1 || close >= end) throw fail(start, 'the "[" has no matching "]"', IPV6_EXAMPLE);
  const host = text.slice(start + 1, close);
  if (isIP(host) !== 6) throw notIPv6InBrackets(span, host);
  return { host, port: portAfterHost({ ...span, start: close + 1 }, IPV6_EXAMPLE), family: 6 };
}

function notIPv6InBrackets(span: EndpointSpan, host: string): WorkbenchError {
  const inside = span.start + 1;
  if (host === '') return span.fail(inside, 'there is nothing between "[" and "]"', IPV6_EXAMPLE);
  if (isIP(host) === 4) return span.fail(inside - 1, 'brackets are only for IPv6 addresses', `Write ${host}:12345 without brackets.`);
  const bad = findBadIPv6Char(span.text, inside, inside + host.length);
  return span.fail(bad, `${quoteInput(host)} is not an IPv6 address`, IPV6_EXAMPLE);
}

function findBadIPv6Char(text: string, start: number, end: number): number {
  for (let i = start; i < end && text[i] !== '%'; i++) {
    if (!/[0-9a-f:.]/i.test(text[i])) return i;
  }
  return start;
}

function parseUnbracketed(span: EndpointSpan): Endpoint {
  const { text, start, end, fail } = span;
  const firstColon = text.indexOf(':', start);
  if (firstColon === -1 || firstColon >= end) {
    const family = checkHost(span);
    return endpoint(text.slice(start, end), portAfterHost({ ...span, start: end }, HOST_PORT_EXAMPLE), family);
  }
  const secondColon = text.indexOf(':', firstColon + 1);
  if (secondColon !== -1 && secondColon < end) return parseBareIPv6(span, secondColon);
  if (firstColon === start) throw fail(start, 'the host is missing before ":"');
  const family = checkHost({ ...span, end: firstColon });
  return endpoint(text.slice(start, firstColon), readPort({ ...span, start: firstColon + 1 }, allowZero(span)), family);
}

function endpoint(host: string, port: number, family: 4 | 6 | undefined): Endpoint {
  return family === undefined ? { host, port } : { host, port, family };
}

/** Several colons and no brackets: an IPv6 address alone, or a mistake. */
function parseBareIPv6(span: EndpointSpan, secondColon: number): Endpoint {
  const { text, start, end, fail } = span;
  const host = text.slice(start, end);
  const lastColon = text.lastIndexOf(':', end - 1);
  const last = text.slice(lastColon + 1, end);
  // "::1:9000" is both the address ::1:9000 and ::1 with port 9000; only brackets can tell.
  if (/^\d{1,5}$/.test(last) && isIP(text.slice(start, lastColon)) === 6) {
    throw fail(
      lastColon,
      `without brackets, ":${last}" could be the port or the end of the IPv6 address`,
      'Write [::1]:9000 for port 9000 of ::1, or [::1:9000]:12345 for the address ::1:9000.',
    );
  }
  if (isIP(host) !== 6) throw fail(secondColon, 'only one ":" can separate host and port');
  return { host, port: portAfterHost({ ...span, start: end }, IPV6_EXAMPLE), family: 6 };
}

/** The port after a host that has just ended at `span.start`: ":port", or the default port. */
function portAfterHost(span: EndpointSpan, example: string): number {
  const { text, start, end, options, fail } = span;
  if (start === end) {
    if (options.defaultPort === undefined) throw fail(end, 'the port is missing', example);
    return parsePort(options.defaultPort, { allowZero: allowZero(span) });
  }
  if (text[start] !== ':') throw fail(start, `${quoteCharAt(text, start)} at column ${start + 1} should be ":" before the port`, example);
  return readPort({ ...span, start: start + 1 }, allowZero(span));
}

function allowZero(span: EndpointSpan): boolean {
  return span.options.allowPortZero ?? false;
}

function readPort(span: Span, allowZero: boolean): number {
  const { text, start, end, fail } = span;
  if (start === end) throw fail(end, 'the port is missing');
  for (let i = start; i < end; i++) {
    if (!isDigit(text.charCodeAt(i))) throw fail(i, `${quoteCharAt(text, i)} at column ${i + 1} is not a digit`);
  }
  const digits = text.slice(start, end);
  return checkPortRange(Number(digits), digits.length > 10 ? quoteInput(digits) : digits, allowZero, start);
}

function checkPortRange(port: number, shown: string, allowZero: boolean, offset?: number): number {
  if (Number.isInteger(port) && port >= 1 && port <= SERVER_LIMITS.maxPort) return port;
  if (port === 0 && allowZero) return 0;
  const problem = port === 0 ? `Port 0 means "any free port", which only a server can use.` : `Port ${shown} is out of range.`;
  throw new WorkbenchError('PORT_OUT_OF_RANGE', problem, portHint(allowZero), { offset });
}

function portHint(allowZero: boolean): string {
  return allowZero
    ? `Use a port from 1 to ${SERVER_LIMITS.maxPort}, or 0 for any free port.`
    : `Use a port from 1 to ${SERVER_LIMITS.maxPort}, e.g. 12345.`;
}

/** An IPv4 literal, or a host name for the resolver; anything else fails at its first bad character. */
function checkHost(span: Span): 4 | undefined {
  const { text, start, end, fail } = span;
  const host = text.slice(start, end);
  if (isIP(host) === 4) return 4;
  if (/^\d+$/.test(host)) {
    throw fail(start, `${quoteInput(host)} is a number, not a host`, `Write the host before the port, e.g. 127.0.0.1:${host.slice(0, 5)}.`);
  }
  if (/^[\d.]+$/.test(host)) {
    throw fail(
      badIPv4Part(text, start, end),
      `${quoteInput(host)} is not an IPv4 address`,
      'Write four numbers from 0 to 255, e.g. 127.0.0.1:12345.',
    );
  }
  if (host.length > MAX_HOST_NAME) throw fail(start + MAX_HOST_NAME, `the host name is longer than ${MAX_HOST_NAME} characters`);
  checkHostNameChars(span);
  return undefined;
}

function checkHostNameChars(span: Span): void {
  const { text, start, end, fail } = span;
  for (let i = start; i < end; i++) {
    const char = text[i];
    if (char === '.' && (i === start || text[i - 1] === '.')) throw fail(i, `the host name has an empty part at column ${i + 1}`);
    if (char === '.' || /[a-z0-9_-]/i.test(char)) continue;
    throw fail(i, `${quoteCharAt(text, i)} at column ${i + 1} cannot be part of a host name`);
  }
}

/** Offset of the first part of a dotted number that is not 0–255, or of where a missing part should be. */
function badIPv4Part(text: string, start: number, end: number): number {
  let partStart = start;
  for (let part = 0; part < 4; part++) {
    const dot = text.indexOf('.', partStart);
    const partEnd = dot === -1 || dot >= end ? end : dot;
    const digits = text.slice(partStart, partEnd);
    if (!/^(0|[1-9]\d{0,2})$/.test(digits) || Number(digits) > 255) return partStart;
    if (partEnd === end) return end;
    partStart = partEnd + 1;
  }
  return partStart - 1;
}

function isDigit(code: number): boolean {
  return code >= 0x30 && code <= 0x39;
}

function familyMismatch(host: string, literal: 4 | 6, wanted: 4 | 6): WorkbenchError {
  return new WorkbenchError(
    'FAMILY_MISMATCH',
    `${quoteInput(host)} is an IPv${literal} address, but an IPv${wanted} address is needed here.`,
    wanted === 4 ? 'Use an IPv4 address such as 127.0.0.1.' : 'Use an IPv6 address such as ::1.',
  );
}

function unknownHost(host: string, family: 4 | 6 | undefined, cause: unknown): WorkbenchError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const what = family === undefined ? 'an address' : `an IPv${family} address`;
  const message =
    code === 'EAI_AGAIN'
      ? `Could not look up ${quoteInput(host)}: the name server did not answer.`
      : `Could not find ${what} for ${quoteInput(host)}.`;
  const example = family === 6 ? '::1' : '127.0.0.1';
  return new WorkbenchError('UNKNOWN_HOST', message, `Check the spelling, or use an IP address such as ${example}.`, { cause });
}
