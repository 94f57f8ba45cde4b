import { MAX_DATAGRAM_BYTES } from '../endpoint';
import { isWorkbenchError, quoteInput } from '../errors';
import { escapeText } from '../escapeText';
import { encodePayload, hexDump, previewText } from '../payload';
import { compileReplyPattern, replyPatternProblem } from './replyPattern';
import { formatCount, plural } from '../stats';

/**
 * What a `.udp` block expects back: `@expect contains "…"`, `equals "…"`, `matches /…/flags`, `hex "…"`,
 * `size N` or `none` (no reply at all). Parsed once, checked against each reply.
 */
export type Expectation =
  | { readonly kind: 'contains' | 'equals'; readonly text: string; readonly bytes: Buffer }
  | { readonly kind: 'hex'; readonly bytes: Buffer }
  | { readonly kind: 'matches'; readonly source: string; readonly flags: string }
  | { readonly kind: 'size'; readonly size: number }
  | { readonly kind: 'none' };

export interface ExpectationResult {
  readonly passed: boolean;
  /** What happened, in a sentence: shown in the log and the CodeLens tooltip. */
  readonly detail: string;
}

/** `end` is where the expectation stopped reading; the caller decides what may follow (a comment). */
export type ParsedExpectation =
  { readonly expectation: Expectation; readonly end: number } | { readonly message: string; readonly start: number; readonly end: number };

const FORMS = 'contains "…", equals "…", matches /…/flags, hex "…", size N or none';
/** The reply's address family is not known here, so the larger of the two: IPv6's. */
const MAX_DATAGRAM = MAX_DATAGRAM_BYTES[6];
const PREVIEW_BYTES = 64;

/** Parses the value of an `@expect` header, starting at `from`. Never throws. */
export function parseExpectation(text: string, from = 0): ParsedExpectation {
  const operator = /[A-Za-z]+/y;
  operator.lastIndex = from;
  const word = operator.exec(text)?.[0] ?? '';
  const afterWord = from + word.length;
  const argumentStart = skipSpaces(text, afterWord);
  const needsArgument = (what: string): ParsedExpectation => ({
    message: `@expect ${word} needs ${what}.`,
    start: from,
    end: Math.max(afterWord, argumentStart),
  });

  switch (word) {
    case 'none':
      return { expectation: { kind: 'none' }, end: afterWord };
    case 'contains':
    case 'equals':
    case 'hex': {
      if (text[argumentStart] !== '"' || argumentStart === afterWord) return needsArgument('a "quoted string"');
      const string = readString(text, argumentStart);
      if ('message' in string) return string;
      const bytes = encodeString(string.content, word === 'hex' ? 'hex' : 'escaped', argumentStart + 1);
      if ('message' in bytes) return bytes;
      const expectation: Expectation = word === 'hex' ? { kind: 'hex', bytes } : { kind: word, text: string.content, bytes };
      return { expectation, end: string.end };
    }
    case 'matches': {
      if (text[argumentStart] !== '/' || argumentStart === afterWord) return needsArgument('a /regular expression/');
      return readRegex(text, argumentStart);
    }
    case 'size': {
      const digits = /\d+/y;
      digits.lastIndex = argumentStart;
      const number = argumentStart > afterWord ? digits.exec(text)?.[0] : undefined;
      if (number === undefined) return needsArgument(`a number of bytes, 0 to ${formatCount(MAX_DATAGRAM)}`);
      const size = Number(number);
      const end = argumentStart + number.length;
      if (size > MAX_DATAGRAM) {
        return {
          message: `@expect size ${number} is larger than a datagram can be (${formatCount(MAX_DATAGRAM)} bytes).`,
          start: argumentStart,
          end,
        };
      }
      return { expectation: { kind: 'size', size }, end };
    }
    default: {
      const end = Math.max(afterWord, from + 1);
      if (text.slice(from).trim() === '') return { message: `@expect needs one of: ${FORMS}.`, start: from, end };
      return { message: `Unknown @expect ${quoteInput(word || text.slice(from).trim())}: write ${FORMS}.`, start: from, end };
    }
  }
}

/** Judges a reply (undefined: none came within the timeout). Without an expectation, any reply passes. */
export function judgeReply(expectation: Expectation | undefined, reply: Buffer | undefined): ExpectationResult {
  if (expectation?.kind === 'none') {
    return reply === undefined
      ? { passed: true, detail: 'no reply, as expected' }
      : { passed: false, detail: `expected no reply, got ${describeBytes(reply)}` };
  }
  if (reply === undefined) {
    return { passed: false, detail: expectation ? `no reply (expected one that ${describeExpectation(expectation)})` : 'no reply' };
  }
  if (expectation === undefined) return { passed: true, detail: `reply: ${describeBytes(reply)}` };
  const passed = matches(expectation, reply);
  return passed
    ? { passed, detail: `reply ${describeExpectation(expectation)}` }
    : { passed, detail: `expected a reply that ${describeExpectation(expectation)}, got ${describeBytes(reply)}` };
}

/** The expectation in words: `contains "Data received"`, `is 12 bytes`; what the file says, as written but escaped. */
export function describeExpectation(expectation: Expectation): string {
  switch (expectation.kind) {
    case 'contains':
      return `contains "${escapeText(expectation.text, 'source')}"`;
    case 'equals':
      return `equals "${escapeText(expectation.text, 'source')}"`;
    case 'hex':
      return `is the bytes ${hexBytes(expectation.bytes)}`;
    case 'matches':
      return `matches /${escapeText(expectation.source, 'source')}/${expectation.flags}`;
    case 'size':
      return `is ${plural(expectation.size, 'byte')}`;
    case 'none':
      return 'does not come';
  }
}

function matches(expectation: Exclude<Expectation, { kind: 'none' }>, reply: Buffer): boolean {
  switch (expectation.kind) {
    case 'contains':
      return reply.includes(expectation.bytes);
    case 'equals':
    case 'hex':
      return reply.equals(expectation.bytes);
    case 'matches': {
      // Compiled for each reply: its cache of states is dropped with it.
      const compiled = compileReplyPattern(expectation.source, expectation.flags);
      return 'pattern' in compiled && compiled.pattern.test(reply.toString('utf8'));
    }
    case 'size':
      return reply.length === expectation.size;
  }
}

function describeBytes(bytes: Buffer): string {
  return `${formatCount(bytes.length)} B: ${previewText(bytes, PREVIEW_BYTES)}`;
}

function hexBytes(bytes: Buffer): string {
  return hexDump(bytes, PREVIEW_BYTES).join(' ');
}

function skipSpaces(text: string, from: number): number {
  let at = from;
  while (text[at] === ' ' || text[at] === '\t') at++;
  return at;
}

/** A "…" string; a backslash keeps the next character (escapes are decoded later, with the payload's rules). */
function readString(text: string, quote: number): { content: string; end: number } | { message: string; start: number; end: number } {
  for (let at = quote + 1; at < text.length; at++) {
    if (text[at] === '\\') at++;
    else if (text[at] === '"') return { content: text.slice(quote + 1, at), end: at + 1 };
  }
  return { message: 'Unterminated string: close it with ".', start: quote, end: text.length };
}

/** The bytes of a string's content, read like a payload: escapes (\n, \", \xHH) or hex digits. */
function encodeString(
  content: string,
  encoding: 'escaped' | 'hex',
  contentStart: number,
): Buffer | { message: string; start: number; end: number } {
  try {
    return encodePayload(content, encoding);
  } catch (err) {
    if (!isWorkbenchError(err)) throw err;
    const start = contentStart + (err.offset ?? 0);
    return { message: err.text, start, end: start + 1 };
  }
}

/** A /source/flags literal, checked by building it with the engine that will run it. */
function readRegex(text: string, slash: number): ParsedExpectation {
  let inClass = false;
  for (let at = slash + 1; at < text.length; at++) {
    const char = text[at];
    if (char === '\\') at++;
    else if (char === '[') inClass = true;
    else if (char === ']') inClass = false;
    else if (char === '/' && !inClass) {
      const source = text.slice(slash + 1, at);
      const flagPattern = /[A-Za-z]*/y;
      flagPattern.lastIndex = at + 1;
      const flags = flagPattern.exec(text)?.[0] ?? '';
      const end = at + 1 + flags.length;
      if (source === '') return { message: 'Empty regular expression: write /…/ with something between the slashes.', start: slash, end };
      const problem = replyPatternProblem(source, flags);
      if (problem !== undefined) return { message: escapeText(problem, 'source'), start: slash, end };
      return { expectation: { kind: 'matches', source, flags }, end };
    }
  }
  return { message: 'Unterminated regular expression: close it with /.', start: slash, end: text.length };
}
