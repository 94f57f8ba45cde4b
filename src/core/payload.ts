import { isUtf8 } from 'node:buffer';
import { MAX_DATAGRAM_BYTES } from './endpoint';
import { WorkbenchError } from './errors';
import { escapeText } from './escapeText';
import { DECODERS, type Scan } from './payloadDecoding';
import { formatCount, plural } from './stats';

/** How typed text becomes the bytes of a datagram. */
export type PayloadEncoding = 'utf8' | 'escaped' | 'hex' | 'base64';
export const PAYLOAD_ENCODINGS: readonly PayloadEncoding[] = ['utf8', 'escaped', 'hex', 'base64'];

export function encodePayload(text: string, encoding: PayloadEncoding): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(text, 'utf8');
    default:
      return decode(text, DECODERS[encoding]);
  }
}

/**
 * How many bytes `text` makes in `encoding`, or the first mistake in it, found by scanning: nothing is encoded, so
 * checking a payload costs no memory whatever its size.
 */
export function measurePayload(text: string, encoding: PayloadEncoding): Scan {
  return encoding === 'utf8' ? Buffer.byteLength(text, 'utf8') : DECODERS[encoding](text);
}

function decode(text: string, scan: (text: string, out?: Buffer) => Scan): Buffer {
  const size = scan(text);
  if (typeof size !== 'number') throw new WorkbenchError(size.code, size.message, size.hint, { offset: size.offset });
  const bytes = Buffer.alloc(size);
  scan(text, bytes);
  return bytes;
}

/** Throws DATAGRAM_TOO_LARGE when `size` bytes do not fit in one UDP datagram. */
export function checkDatagramSize(size: number, family: 4 | 6): void {
  const max = MAX_DATAGRAM_BYTES[family];
  if (size <= max) return;
  throw new WorkbenchError(
    'DATAGRAM_TOO_LARGE',
    `The datagram is ${plural(size, 'byte')}; UDP over IPv${family} carries at most ${formatCount(max)}.`,
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
 * The first `maxBytes` as one quoted line that reads back unambiguously: text escaped as escapeText does
 * (`\n`, `\\`, `\"`, `\u202e`), bytes that are not UTF-8 as `\xHH`, and a character shown whole or not at all.
 */
export function previewText(buf: Buffer, maxBytes: number): string {
  const limit = Math.min(buf.length, maxBytes);
  let shown = '';
  let at = 0;
  while (at < limit) {
    const textEnd = endOfUtf8Text(buf, at, limit);
    if (textEnd > at) {
      shown += escapeText(buf.toString('utf8', at, textEnd));
      at = textEnd;
    } else if (utf8SequenceLength(buf, at) > 0) {
      break; // a character that would only partly fit
    } else {
      shown += `\\x${hexByte(buf[at])}`;
      at++;
    }
  }
  return at < buf.length ? `"${shown}" … (+${plural(buf.length - at, 'byte')})` : `"${shown}"`;
}

/** Classic 16-bytes-a-line dump of the first `maxBytes`: offset, hex in two groups of 8, printable ASCII. */
export function hexDump(buf: Buffer, maxBytes: number): string[] {
  const shown = Math.max(0, Math.min(buf.length, maxBytes));
  const offsetWidth = Math.max(4, Math.max(0, shown - 1).toString(16).length);
  const lines: string[] = [];
  for (let at = 0; at < shown; at += 16) {
    lines.push(hexDumpLine(buf.subarray(at, Math.min(at + 16, shown)), at.toString(16).padStart(offsetWidth, '0')));
  }
  if (shown < buf.length) lines.push(`… (+${plural(buf.length - shown, 'byte')} not shown)`);
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

/** C0 and C1 control characters and DEL. */
function isControl(code: number): boolean {
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hexByte(byte: number): string {
  return HEX_BYTES[byte];
}
