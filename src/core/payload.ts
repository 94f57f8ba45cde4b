import { isUtf8 } from 'node:buffer';
import { MAX_DATAGRAM_BYTES } from './endpoint';
import { quoteCharAt, quoteInput, WorkbenchError } from './errors';
import { formatCount } from './stats';

/** How typed text becomes the bytes of a datagram. */
export type PayloadEncoding = 'utf8' | 'escaped' | 'hex' | 'base64';
export const PAYLOAD_ENCODINGS: readonly PayloadEncoding[] = ['utf8', 'escaped', 'hex', 'base64'];

const ESCAPE_HINT = String.raw`Use \n, \r, \t, \0, \\, \", \' or \xHH (two hex digits); write \\ for a backslash.`;
const HEX_HINT = 'Use pairs of 0-9 a-f, optionally separated by spaces, colons or commas, e.g. "de ad be ef".';
const BASE64_HINT = 'Use A-Z, a-z, 0-9, + and / (or - and _), with optional = padding at the end, e.g. "aGVsbG8=".';

export function encodePayload(text: string, encoding: PayloadEncoding): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    case 'escaped':
      return decodeEscapes(text);
    case 'hex':
      return decodeHex(text);
    case 'base64':
      return decodeBase64(text);
  }
}

/** Throws DATAGRAM_TOO_LARGE when `size` bytes do not fit in one UDP datagram. */
export function checkDatagramSize(size: number, family: 4 | 6): void {
  const max = MAX_DATAGRAM_BYTES[family];
  if (size <= max) return;
  throw new WorkbenchError(
    'DATAGRAM_TOO_LARGE',
    `The datagram is ${countOf(size, 'byte')}; UDP over IPv${family} carries at most ${formatCount(max)}.`,
    'Send less: split the data into several datagrams.',
  );
}

/** Valid UTF-8 without control characters other than tab, carriage return and line feed. */
export function isPrintable(buf: Buffer): boolean {
  if (!isUtf8(buf)) return false;
  const text = buf.toString('utf8');
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (isControl(code) && code !== 0x09 && code !== 0x0a && code !== 0x0d) return false;
  }
  return true;
}

/**
 * The first `maxBytes` as one quoted line: control characters and bytes that are not UTF-8 escaped
 * (`\n`, `\x00`), and a character is shown whole or not at all.
 */
export function previewText(buf: Buffer, maxBytes: number): string {
  const limit = Math.min(buf.length, maxBytes);
  let shown = '';
  let at = 0;
  while (at < limit) {
    const textEnd = endOfUtf8Text(buf, at, limit);
    if (textEnd > at) {
      shown += escapeForLine(buf.toString('utf8', at, textEnd));
      at = textEnd;
    } else if (utf8SequenceLength(buf, at) > 0) {
      break; // a character that would only partly fit
    } else {
      shown += `\\x${hexByte(buf[at])}`;
      at++;
    }
  }
  return at < buf.length ? `"${shown}" … (+${countOf(buf.length - at, 'byte')})` : `"${shown}"`;
}

/** Classic 16-bytes-a-line dump of the first `maxBytes`: offset, hex in two groups of 8, printable ASCII. */
export function hexDump(buf: Buffer, maxBytes: number): string[] {
  const shown = Math.max(0, Math.min(buf.length, maxBytes));
  const offsetWidth = Math.max(4, Math.max(0, shown - 1).toString(16).length);
  const lines: string[] = [];
  for (let at = 0; at < shown; at += 16) {
    lines.push(hexDumpLine(buf.subarray(at, Math.min(at + 16, shown)), at.toString(16).padStart(offsetWidth, '0')));
  }
  if (shown < buf.length) lines.push(`… (+${countOf(buf.length - shown, 'byte')} not shown)`);
  return lines;
}

function hexDumpLine(row: Buffer, offset: string): string {
  let hex = '';
  let ascii = '';
  for (let i = 0; i < 16; i++) {
    hex += (i === 8 ? '  ' : ' ') + (i < row.length ? hexByte(row[i]) : '  ');
    if (i < row.length) ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : '.';
  }
  return `${offset} ${hex}  |${ascii}|`;
}

function decodeEscapes(text: string): Buffer {
  const parts: Buffer[] = [];
  let literalStart = 0;
  for (let at = text.indexOf('\\'); at !== -1; at = text.indexOf('\\', literalStart)) {
    parts.push(Buffer.from(text.slice(literalStart, at), 'utf8'));
    const { bytes, length } = readEscape(text, at);
    parts.push(bytes);
    literalStart = at + length;
  }
  parts.push(Buffer.from(text.slice(literalStart), 'utf8'));
  return Buffer.concat(parts);
}

const SIMPLE_ESCAPES: ReadonlyMap<string, number> = new Map([
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
  ['0', 0x00],
  ['\\', 0x5c],
  ['"', 0x22],
  ["'", 0x27],
]);

/** The bytes of the escape at the backslash at `at`, and how many characters it spans. */
function readEscape(text: string, at: number): { bytes: Buffer; length: number } {
  const fail = (problem: string) => new WorkbenchError('BAD_ESCAPE', `Malformed escape at column ${at + 1}: ${problem}.`, ESCAPE_HINT, { offset: at });
  if (at + 1 === text.length) throw fail('the text ends with a lone backslash');
  const kind = text[at + 1];
  const simple = SIMPLE_ESCAPES.get(kind);
  if (simple !== undefined) return { bytes: Buffer.of(simple), length: 2 };
  if (kind !== 'x') throw fail(`a backslash followed by ${quoteCharAt(text, at + 1)} is not an escape`);
  const digits = text.slice(at + 2, at + 4);
  if (!/^[0-9a-f]{2}$/i.test(digits)) throw fail(`\\x needs two hex digits, as in \\x0a`);
  return { bytes: Buffer.of(parseInt(digits, 16)), length: 4 };
}

/** Hex digits in pairs; whitespace, ":", ",", "-" and a "0x" at the start of a group are ignored. */
function decodeHex(text: string): Buffer {
  const bytes = Buffer.alloc(text.length >> 1);
  let count = 0;
  let groupStart = -1;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (isHexSeparator(char)) {
      checkEvenGroup(text, groupStart, at);
      groupStart = -1;
    } else if (groupStart === -1 && char === '0' && (text[at + 1] === 'x' || text[at + 1] === 'X')) {
      groupStart = ++at + 1;
    } else if (!isHexDigit(char)) {
      throw badHex(`${quoteCharAt(text, at)} at column ${at + 1} is not a hex digit`, at);
    } else {
      if (groupStart === -1) groupStart = at;
      if ((at - groupStart) % 2 === 1) bytes[count++] = parseInt(text.slice(at - 1, at + 1), 16);
    }
  }
  checkEvenGroup(text, groupStart, text.length);
  return bytes.subarray(0, count);
}

function checkEvenGroup(text: string, groupStart: number, groupEnd: number): void {
  if (groupStart === -1 || (groupEnd - groupStart) % 2 === 0) return;
  const group = text.slice(groupStart, groupEnd);
  throw badHex(`${quoteInput(group)} at column ${groupStart + 1} has an odd number of digits; each byte needs two`, groupStart);
}

function badHex(problem: string, offset: number): WorkbenchError {
  return new WorkbenchError('BAD_HEX', `Malformed hex: ${problem}.`, HEX_HINT, { offset });
}

function isHexSeparator(char: string): boolean {
  return char === ':' || char === ',' || char === '-' || /\s/.test(char);
}

function isHexDigit(char: string): boolean {
  return /[0-9a-f]/i.test(char);
}

/** Standard or URL-safe base64; whitespace is ignored and the "=" padding is optional. */
function decodeBase64(text: string): Buffer {
  let symbols = '';
  let lastSymbol = -1;
  let padding = 0;
  let firstPad = -1;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (/\s/.test(char)) continue;
    if (char === '=') {
      if (firstPad === -1) firstPad = at;
      if (++padding > 2) throw badBase64('there are more than two "=" at the end', at);
    } else if (!/[A-Za-z0-9+/_-]/.test(char)) {
      throw badBase64(`${quoteCharAt(text, at)} at column ${at + 1} is not a base64 character`, at);
    } else if (padding > 0) {
      throw badBase64(`${quoteCharAt(text, at)} at column ${at + 1} comes after the "=" padding, which must be last`, at);
    } else {
      symbols += char;
      lastSymbol = at;
    }
  }
  checkBase64Length(symbols.length, lastSymbol, padding, firstPad);
  return Buffer.from(symbols, 'base64');
}

function checkBase64Length(symbols: number, lastSymbol: number, padding: number, firstPad: number): void {
  if (symbols % 4 === 1) throw badBase64(`${countOf(symbols, 'character')} cannot be base64; one is missing or one too many`, lastSymbol);
  if (padding > 0 && (symbols + padding) % 4 !== 0) throw badBase64('the "=" padding does not fit the length', firstPad);
}

function badBase64(problem: string, offset: number): WorkbenchError {
  return new WorkbenchError('BAD_BASE64', `Malformed base64: ${problem}.`, BASE64_HINT, { offset });
}

/** Index after the longest run of whole UTF-8 characters from `at` that ends by `limit`. */
function endOfUtf8Text(buf: Buffer, at: number, limit: number): number {
  let end = at;
  for (let length = utf8SequenceLength(buf, end); length > 0 && end + length <= limit; length = utf8SequenceLength(buf, end)) {
    end += length;
  }
  return end;
}

/** Length of the well-formed UTF-8 character at `at` (1–4), or 0 if the bytes there are not one. */
function utf8SequenceLength(buf: Buffer, at: number): number {
  if (at >= buf.length) return 0;
  const lead = buf[at];
  if (lead < 0x80) return 1;
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || at + length > buf.length) return 0;
  for (let i = at + 1; i < at + length; i++) {
    if ((buf[i] & 0xc0) !== 0x80) return 0;
  }
  // Second-byte limits exclude overlong forms, UTF-16 surrogates and code points above U+10FFFF.
  const second = buf[at + 1];
  if ((lead === 0xe0 && second < 0xa0) || (lead === 0xed && second > 0x9f)) return 0;
  if ((lead === 0xf0 && second < 0x90) || (lead === 0xf4 && second > 0x8f)) return 0;
  return length;
}

function escapeForLine(text: string): string {
  let escaped = '';
  let plainStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code) && !isLayoutControl(code)) continue;
    escaped += text.slice(plainStart, i) + escapeCode(code);
    plainStart = i + 1;
  }
  return escaped + text.slice(plainStart);
}

function escapeCode(code: number): string {
  if (code === 0x0a) return '\\n';
  if (code === 0x0d) return '\\r';
  if (code === 0x09) return '\\t';
  return code < 0x80 ? `\\x${hexByte(code)}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** C0 and C1 control characters and DEL. */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** Line separators and bidirectional marks: a datagram from the network must not break or reorder a log line. */
function isLayoutControl(code: number): boolean {
  return code === 0x200e || code === 0x200f || code === 0x2028 || code === 0x2029 || (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hexByte(byte: number): string {
  return HEX_BYTES[byte];
}

function countOf(count: number, unit: string): string {
  return `${formatCount(count)} ${unit}${count === 1 ? '' : 's'}`;
}
