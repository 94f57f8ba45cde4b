import { quoteCharAt, quoteInput } from './errors';
import { plural } from './stats';

/**
 * Escaped text, hex and base64 read into bytes. One scan per encoding does three jobs: with no `out` it only counts
 * the bytes and finds the first mistake (what the editor's diagnostics need, on every edit, for payloads of any size),
 * and with an `out` of that size it writes them. Neither throws nor builds an Error: a mistake is returned.
 */

type DecodedEncoding = 'escaped' | 'hex' | 'base64';

export interface DecodingMistake {
  readonly code: 'BAD_ESCAPE' | 'BAD_HEX' | 'BAD_BASE64';
  readonly message: string;
  readonly hint: string;
  /** Where in the text the mistake is. */
  readonly offset: number;
}

/** The mistake in one line, as WorkbenchError.text words it: what is wrong, then how to fix it. */
export function mistakeText(mistake: DecodingMistake): string {
  return `${mistake.message} ${mistake.hint}`;
}

/** The number of bytes written (or that would be), or the first mistake. */
export type Scan = number | DecodingMistake;

export const DECODERS: { readonly [Encoding in DecodedEncoding]: (text: string, out?: Buffer) => Scan } = {
  escaped: scanEscapes,
  hex: scanHex,
  base64: scanBase64,
};

const ESCAPE_HINT = String.raw`Use \n, \r, \t, \0, \\, \", \' or \xHH (two hex digits); write \\ for a backslash.`;
const HEX_HINT = 'Use pairs of 0-9 a-f, optionally separated by spaces, colons or commas, e.g. "de ad be ef".';
const BASE64_HINT = 'Use A-Z, a-z, 0-9, + and / (or - and _), with optional = padding at the end, e.g. "aGVsbG8=".';

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 0x0a, r: 0x0d, t: 0x09, '0': 0x00, '\\': 0x5c, '"': 0x22, "'": 0x27 };

/** UTF-8 with \n, \r, \t, \0, \\, \", \' and \xHH escapes. */
function scanEscapes(text: string, out?: Buffer): Scan {
  let size = 0;
  let literalStart = 0;
  for (let at = text.indexOf('\\'); at !== -1; at = text.indexOf('\\', literalStart)) {
    size += writeUtf8(text, literalStart, at, out, size);
    const byte = readEscape(text, at);
    if (typeof byte !== 'number') return byte;
    if (out) out[size] = byte;
    size++;
    literalStart = at + (text[at + 1] === 'x' ? 4 : 2);
  }
  return size + writeUtf8(text, literalStart, text.length, out, size);
}

/** The byte of the escape at the backslash at `at`. */
function readEscape(text: string, at: number): number | DecodingMistake {
  if (at + 1 === text.length) return badEscape('the text ends with a lone backslash', at);
  const kind = text[at + 1];
  if (Object.hasOwn(SIMPLE_ESCAPES, kind)) return SIMPLE_ESCAPES[kind];
  if (kind !== 'x') return badEscape(`a backslash followed by ${quoteCharAt(text, at + 1)} is not an escape`, at);
  const high = hexValue(text.charCodeAt(at + 2));
  const low = hexValue(text.charCodeAt(at + 3));
  if (high === -1 || low === -1) return badEscape(`\\x needs two hex digits, as in \\x0a`, at);
  return (high << 4) | low;
}

function badEscape(problem: string, at: number): DecodingMistake {
  return { code: 'BAD_ESCAPE', message: `Malformed escape at column ${at + 1}: ${problem}.`, hint: ESCAPE_HINT, offset: at };
}

/**
 * The UTF-8 length of `text` from `start` to `end`, written to `out` at `at` when there is one. A lone surrogate
 * becomes U+FFFD (3 bytes), as Buffer.from does.
 */
function writeUtf8(text: string, start: number, end: number, out: Buffer | undefined, at: number): number {
  if (out) return out.write(text.slice(start, end), at, 'utf8');
  let size = 0;
  for (let i = start; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) size += 1;
    else if (code < 0x800) size += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < end && isLowSurrogate(text.charCodeAt(i + 1))) {
      size += 4;
      i++;
    } else size += 3;
  }
  return size;
}

/** Hex digits in pairs; whitespace, ":", ",", "-" and a "0x" at the start of a group are ignored. */
function scanHex(text: string, out?: Buffer): Scan {
  let size = 0;
  let groupStart = -1;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (isHexSeparator(code)) {
      const odd = oddGroup(text, groupStart, at);
      if (odd) return odd;
      groupStart = -1;
    } else if (groupStart === -1 && code === 0x30 && (text[at + 1] === 'x' || text[at + 1] === 'X')) {
      groupStart = ++at + 1;
    } else if (hexValue(code) === -1) {
      return badHex(`${quoteCharAt(text, at)} at column ${at + 1} is not a hex digit`, at);
    } else {
      if (groupStart === -1) groupStart = at;
      if ((at - groupStart) % 2 === 1) {
        if (out) out[size] = (hexValue(text.charCodeAt(at - 1)) << 4) | hexValue(code);
        size++;
      }
    }
  }
  return oddGroup(text, groupStart, text.length) ?? size;
}

function oddGroup(text: string, groupStart: number, groupEnd: number): DecodingMistake | undefined {
  if (groupStart === -1 || (groupEnd - groupStart) % 2 === 0) return undefined;
  const group = text.slice(groupStart, groupEnd);
  return badHex(`${quoteInput(group)} at column ${groupStart + 1} has an odd number of digits; each byte needs two`, groupStart);
}

function badHex(problem: string, offset: number): DecodingMistake {
  return { code: 'BAD_HEX', message: `Malformed hex: ${problem}.`, hint: HEX_HINT, offset };
}

function isHexSeparator(code: number): boolean {
  return code === 0x3a || code === 0x2c || code === 0x2d || isSpace(code);
}

/** The value of a hex digit's code, or -1. */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** Standard or URL-safe base64; whitespace is ignored and the "=" padding is optional. */
function scanBase64(text: string, out?: Buffer): Scan {
  let symbols = 0;
  let lastSymbol = -1;
  let padding = 0;
  let firstPad = -1;
  // Bits read but not yet written: each symbol brings 6, each byte takes 8.
  let bits = 0;
  let pending = 0;
  for (let at = 0; at < text.length; at++) {
    const code = text.charCodeAt(at);
    if (isSpace(code)) continue;
    const value = base64Value(code);
    if (code === 0x3d) {
      if (firstPad === -1) firstPad = at;
      if (++padding > 2) return badBase64('there are more than two "=" at the end', at);
    } else if (value === -1) {
      return badBase64(`${quoteCharAt(text, at)} at column ${at + 1} is not a base64 character`, at);
    } else if (padding > 0) {
      return badBase64(`${quoteCharAt(text, at)} at column ${at + 1} comes after the "=" padding, which must be last`, at);
    } else {
      symbols++;
      lastSymbol = at;
      if (out) {
        pending = ((pending << 6) | value) & 0xffff;
        bits += 6;
        if (bits >= 8) {
          bits -= 8;
          out[((symbols * 6) >> 3) - 1] = (pending >> bits) & 0xff;
        }
      }
    }
  }
  if (symbols % 4 === 1) return badBase64(`${plural(symbols, 'character')} cannot be base64; one is missing or one too many`, lastSymbol);
  if (padding > 0 && (symbols + padding) % 4 !== 0) return badBase64('the "=" padding does not fit the length', firstPad);
  // What Buffer.from(…, 'base64') makes of the symbols: the bits of an incomplete last byte are dropped.
  return (symbols * 6) >> 3;
}

function base64Value(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52;
  if (code === 0x2b || code === 0x2d) return 62;
  if (code === 0x2f || code === 0x5f) return 63;
  return -1;
}

function badBase64(problem: string, offset: number): DecodingMistake {
  return { code: 'BAD_BASE64', message: `Malformed base64: ${problem}.`, hint: BASE64_HINT, offset };
}

/** What /\s/ matches: ASCII and Unicode white space, line terminators and the byte order mark. */
function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
