import { isIP } from 'node:net';
import { MAX_DATAGRAM_BYTES, type Endpoint } from '../endpoint';
import { escapeText } from '../escapeText';
import type { Expectation } from './expectation';
import { measurePayload, type PayloadEncoding } from '../payload';
import { mistakeText } from '../payloadDecoding';
import { HEADER_NAMES, isHeaderName, readHeader, type HeaderName } from './requestHeaders';
import { expandFileVariables, scanTemplate, type TemplatePart } from './requestVariables';
import { groupKind } from '../net/groupAddress';
import { formatCount } from '../stats';
import { TextLines } from '../textLines';

/**
 * Reads a `.udp` file: `@name = value` file variables, and datagram blocks separated by `###` lines, each
 * with optional `@header value` lines and then the payload. Never throws; everything wrong becomes a
 * `Problem` with its position. One pass over the lines, and each line is read a fixed number of times.
 */

/** Positions are 0-based; `endColumn` is exclusive. */
export interface Problem {
  readonly line: number;
  readonly column: number;
  readonly endColumn: number;
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

export interface Located<T> {
  readonly value: T;
  readonly line: number;
}

/** `line` is -1 for a variable given from outside the file (a command line's `--var`). */
export type FileVariable = Located<string>;

export interface RequestBlock {
  /** What follows `###`, or "Block N" (1-based) when nothing does. */
  readonly name: string;
  /** The block's lines, 0-based and inclusive: from its `###` line to the line before the next one. */
  readonly range: { readonly start: number; readonly end: number };
  readonly target?: Located<Endpoint>;
  /** `@encoding utf8` is text with escapes: the `escaped` encoding. */
  readonly encoding?: Located<PayloadEncoding>;
  readonly timeoutMs?: Located<number>;
  readonly retries?: Located<number>;
  readonly expect?: Located<Expectation>;
  /** Send a burst of this many datagrams. */
  readonly repeat?: Located<number>;
  readonly ratePerSecond?: Located<number>;
  /** False (`@tag off`): a burst's datagrams carry no tag, and its replies are counted by order. */
  readonly tag?: Located<boolean>;
  /** `@ttl`, `@loopback`, `@interface`, `@broadcast`: how a datagram to a group or a broadcast address leaves. */
  readonly ttl?: Located<number>;
  readonly loopback?: Located<boolean>;
  readonly interface?: Located<string>;
  readonly broadcast?: Located<boolean>;
  /** The payload as written: its lines joined with \n, comment lines left out, `{{…}}` not filled in yet. */
  readonly payload: string;
  /** Where the payload starts; the block's first line when it has none. */
  readonly payloadLine: number;
}

export interface RequestFile {
  readonly variables: ReadonlyMap<string, FileVariable>;
  readonly blocks: readonly RequestBlock[];
  /** Sorted by position. */
  readonly problems: readonly Problem[];
}

/** In the file, the headers use the short names; a block spells out the unit. */
const FIELDS = {
  target: 'target',
  encoding: 'encoding',
  timeout: 'timeoutMs',
  retries: 'retries',
  expect: 'expect',
  repeat: 'repeat',
  rate: 'ratePerSecond',
  tag: 'tag',
  ttl: 'ttl',
  loopback: 'loopback',
  interface: 'interface',
  broadcast: 'broadcast',
} as const satisfies Record<HeaderName, keyof RequestBlock>;

const SEPARATOR = /^\s*###/;
const COMMENT = /^\s*(?:#|\/\/)/;
const BLANK = /^\s*$/;
/** `@name`: a header, or with `=` after it a file variable. The name is optional so `@` alone is reported. */
const AT_NAME = /^(\s*)@([A-Za-z_][\w.-]*)?/;
const HEADER_LIST = HEADER_NAMES.map((name) => `@${name}`).join(', ');

interface AtLine {
  readonly line: number;
  readonly name: string;
  /** Column of the `@`, and of what follows the name. */
  readonly column: number;
  readonly valueColumn: number;
}

interface BlockDraft {
  readonly name: string;
  readonly start: number;
  end: number;
  readonly headers: AtLine[];
  readonly payloadLines: number[];
}

/**
 * `overrides` replace the file's variables of the same name (and add those it lacks) before anything reads them, as a
 * command line's `--var name=value` does: headers and payloads then see the given value.
 */
export function parseRequestFile(text: string, overrides: ReadonlyMap<string, string> = new Map()): RequestFile {
  const lines = new TextLines(text);
  const problems: Problem[] = [];
  const report = (line: number, column: number, endColumn: number, message: string, severity: Problem['severity'] = 'error'): void => {
    problems.push({ line, column, endColumn: Math.max(endColumn, column + 1), message, severity });
  };
  const { drafts, definitions } = splitLines(lines, report);
  const variables = defineVariables(lines, definitions, report);
  for (const [name, value] of overrides) variables.set(name, { value, line: variables.get(name)?.line ?? -1 });
  const blocks = drafts.map((draft, index) => readBlock(lines, draft, index, variables, report));
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { variables, blocks, problems };
}

/** The block whose lines include `line`. */
export function blockAt(file: RequestFile, line: number): RequestBlock | undefined {
  return file.blocks.find((block) => block.range.start <= line && line <= block.range.end);
}

/** The errors inside a block: a block with any is not sent. Problems are sorted: Run All looks for each block's. */
export function errorsIn(file: RequestFile, block: RequestBlock): Problem[] {
  const { problems } = file;
  let low = 0;
  let high = problems.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (problems[middle].line < block.range.start) low = middle + 1;
    else high = middle;
  }
  const errors: Problem[] = [];
  for (let i = low; i < problems.length && problems[i].line <= block.range.end; i++) {
    if (problems[i].severity === 'error') errors.push(problems[i]);
  }
  return errors;
}

type Report = (line: number, column: number, endColumn: number, message: string, severity?: Problem['severity']) => void;

/** The shape of the file: which lines are separators, headers, variables and payload. */
function splitLines(lines: TextLines, report: Report): { drafts: BlockDraft[]; definitions: AtLine[] } {
  const drafts: BlockDraft[] = [];
  const definitions: AtLine[] = [];
  // Before the first ###, the file holds variables; a header or payload line there starts an unnamed block.
  let current: BlockDraft | undefined;
  let inPayload = false;
  const startBlock = (name: string, line: number): BlockDraft => {
    if (current) current.end = line - 1;
    current = { name, start: line, end: lines.count - 1, headers: [], payloadLines: [] };
    drafts.push(current);
    inPayload = false;
    return current;
  };

  for (let line = 0; line < lines.count; line++) {
    const text = lines.at(line);
    if (SEPARATOR.test(text)) {
      startBlock(text.replace(/^\s*#+/, '').trim(), line);
      continue;
    }
    if (COMMENT.test(text)) continue;
    if (!inPayload) {
      if (BLANK.test(text)) continue;
      const at = AT_NAME.exec(text);
      if (at) {
        const [whole, indent, name = ''] = at;
        const found = { line, name, column: indent.length, valueColumn: whole.length };
        if (name === '') {
          report(line, found.column, found.column + 1, `Write a header (${HEADER_LIST}) or a variable (@name = value) after @.`);
        } else if (/^\s*=/.test(text.slice(whole.length))) definitions.push(found);
        else (current ?? startBlock('', line)).headers.push(found);
        continue;
      }
      inPayload = true;
    }
    (current ?? startBlock('', line)).payloadLines.push(line);
  }
  return { drafts, definitions };
}

function defineVariables(lines: TextLines, definitions: readonly AtLine[], report: Report): Map<string, FileVariable> {
  const variables = new Map<string, FileVariable>();
  for (const { line, name, column, valueColumn: nameEnd } of definitions) {
    const earlier = variables.get(name);
    if (earlier) {
      report(line, column, nameEnd, `@${name} is already defined on line ${earlier.line + 1}.`);
      continue;
    }
    if (isHeaderName(name)) {
      report(line, column, nameEnd, `@${name} is a header, not a variable: write @${name} value, without "=".`);
      continue;
    }
    const text = lines.at(line);
    const valueStart = text.indexOf('=', nameEnd) + 1;
    // A value runs to the end of the line or to a " #" comment.
    const commentAt = text.slice(valueStart).search(/\s#/);
    const raw = commentAt === -1 ? text.slice(valueStart) : text.slice(valueStart, valueStart + commentAt);
    const value = raw.trim();
    const braces = raw.indexOf('{{');
    if (braces !== -1) {
      const at = valueStart + braces;
      report(line, at, at + 2, "A variable's value is used as written: {{…}} is not filled in here.", 'warning');
    }
    variables.set(name, { value, line });
  }
  return variables;
}

function readBlock(
  lines: TextLines,
  draft: BlockDraft,
  index: number,
  variables: ReadonlyMap<string, FileVariable>,
  report: Report,
): RequestBlock {
  const block: { -readonly [Key in keyof RequestBlock]: RequestBlock[Key] } = {
    name: draft.name || `Block ${index + 1}`,
    range: { start: draft.start, end: draft.end },
    payload: '',
    payloadLine: draft.payloadLines[0] ?? draft.start,
  };
  const seen = new Map<string, number>();
  for (const header of draft.headers) {
    const { line, name, column, valueColumn } = header;
    if (!isHeaderName(name)) {
      report(
        line,
        column,
        valueColumn,
        `Unknown header @${name}: use ${HEADER_LIST}; a payload line that starts with @ can be written \\x40.`,
      );
      continue;
    }
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      report(line, column, valueColumn, `@${name} is already set on line ${earlier + 1} of this block.`);
      continue;
    }
    seen.set(name, line);
    const value = readHeaderLine(lines.at(line), header, name, variables, report);
    if (value !== undefined) Object.assign(block, { [FIELDS[name]]: { value, line } });
  }

  // Payload lines continue to the end of the block; blank lines after the last one separate blocks.
  let last = draft.payloadLines.length;
  while (last > 0 && BLANK.test(lines.at(draft.payloadLines[last - 1]))) last--;
  const payloadLines = draft.payloadLines.slice(0, last);
  block.payload = lines.join(payloadLines);
  if (payloadLines.length === 0) {
    report(
      draft.start,
      0,
      lines.length(draft.start),
      `${escapeText(block.name)} has no payload: write the datagram's text below its headers.`,
    );
  }
  checkPayload(lines, payloadLines, block, variables, report);
  checkHeadersTogether(lines, block, report);
  return block;
}

/** A header's value, or undefined after reporting what is wrong with it. */
function readHeaderLine(
  text: string,
  header: AtLine,
  name: HeaderName,
  variables: ReadonlyMap<string, FileVariable>,
  report: Report,
): unknown {
  const { line, valueColumn } = header;
  const source = text.slice(valueColumn);
  const scanned = scanTemplate(source, (variable) => variables.has(variable));
  for (const problem of scanned.problems) report(line, valueColumn + problem.start, valueColumn + problem.end, problem.message);
  const builtins = scanned.parts.filter(isBuiltin);
  for (const part of builtins) {
    report(
      line,
      valueColumn + part.start,
      valueColumn + part.end,
      `${escapeText(source.slice(part.start, part.end), 'source')} changes with every datagram, so it only works in the payload.`,
    );
  }
  if (scanned.problems.length > 0 || builtins.length > 0) return undefined;
  const expanded = expandFileVariables(source, scanned.parts, variables);
  const reading = readHeader(name, expanded.text);
  if (!('message' in reading)) return reading.value;
  const { start, end } = expanded.toSource(reading.start, reading.end);
  report(line, valueColumn + start, valueColumn + end, reading.message);
  return undefined;
}

/**
 * The payload's references, whether its encoding can read it (the first mistake's position), and whether what is
 * written is already more than a datagram carries. All by scanning: nothing is encoded, whatever the payload's size.
 */
function checkPayload(
  lines: TextLines,
  payloadLines: readonly number[],
  block: RequestBlock,
  variables: ReadonlyMap<string, FileVariable>,
  report: Report,
): void {
  const encoding = block.encoding?.value ?? 'escaped';
  let hasBraces = false;
  let readable = true;
  // In escaped text the line ends between payload lines are bytes; hex and base64 skip them.
  let size = encoding === 'escaped' ? Math.max(0, payloadLines.length - 1) : 0;
  const measure = (text: string, line: number): number => {
    const measured = measurePayload(text, encoding);
    if (typeof measured === 'number') return measured;
    readable = false;
    report(line, measured.offset, measured.offset + 1, mistakeText(measured));
    return 0;
  };
  for (const line of payloadLines) {
    const text = lines.at(line);
    // Every {{ is a reference or a reported mistake; most lines have none, and are not scanned for them.
    const lineHasBraces = text.includes('{{');
    hasBraces ||= lineHasBraces;
    const scanned = lineHasBraces ? scanTemplate(text, (name) => variables.has(name)) : undefined;
    for (const problem of scanned?.problems ?? []) report(line, problem.start, problem.end, problem.message);
    // An escape never spans a {{…}}, and hex digits never span a line; base64 can do both, and is checked below.
    // A whole line is checked so that the column in the encoder's message is the column in the editor; what is
    // written around the references counts towards the size.
    if (encoding === 'escaped' && scanned) {
      const blanked = withReferencesBlanked(scanned.parts);
      const spaces = scanned.parts.reduce((sum, part) => sum - (part.kind === 'text' ? part.text.length : 0), blanked.length);
      size += measure(blanked, line) - spaces;
    } else if (encoding === 'escaped' || (encoding === 'hex' && !lineHasBraces)) {
      size += measure(text, line);
    }
  }
  if (encoding === 'base64' && !hasBraces && payloadLines.length > 0) {
    const measured = measurePayload(block.payload, encoding);
    if (typeof measured === 'number') size = measured;
    else {
      readable = false;
      const [line, column] = positionInPayload(lines, payloadLines, measured.offset);
      report(line, column, column + 1, mistakeText(measured));
    }
  }
  if (readable) checkSize(lines, block, size, hasBraces, report);
}

/** A payload larger than a datagram is an error here, not only once it is sent. */
function checkSize(lines: TextLines, block: RequestBlock, size: number, hasBraces: boolean, report: Report): void {
  // Without @target the family is only known at send time: the larger IPv6 limit then, so nothing sendable is marked.
  const family = block.target?.value.family ?? 6;
  const max = MAX_DATAGRAM_BYTES[family];
  if (size <= max) return;
  const what = hasBraces ? 'Without its {{…}} filled in, the payload is already' : 'The payload is';
  report(
    block.payloadLine,
    0,
    lines.length(block.payloadLine),
    `${what} ${formatCount(size)} bytes; UDP over IPv${family} carries at most ${formatCount(max)}. Split it into several blocks.`,
  );
}

/** Line and column of an offset into the payload (its lines joined with \n). */
function positionInPayload(lines: TextLines, payloadLines: readonly number[], offset: number): [number, number] {
  let start = 0;
  for (const line of payloadLines) {
    const end = start + lines.length(line) + 1;
    if (offset < end) return [line, offset - start];
    start = end;
  }
  const last = payloadLines[payloadLines.length - 1];
  return [last, lines.length(last)];
}

/** The line with each {{…}} (and each broken one) turned into spaces, so columns stay where they were. */
function withReferencesBlanked(parts: readonly TemplatePart[]): string {
  let out = '';
  for (const part of parts) {
    if (part.kind !== 'text') continue;
    out += ' '.repeat(part.start - out.length) + part.text;
  }
  return out;
}

function isBuiltin(part: TemplatePart): part is Exclude<TemplatePart, { kind: 'text' | 'variable' }> {
  return part.kind !== 'text' && part.kind !== 'variable';
}

/** Headers that make no sense together, and the ones that another makes pointless. */
function checkHeadersTogether(lines: TextLines, block: RequestBlock, report: Report): void {
  const mark = (header: Located<unknown> | undefined, message: string, severity: Problem['severity']): void => {
    if (header) report(header.line, 0, lines.length(header.line), message, severity);
  };
  if (block.repeat) {
    mark(
      block.expect,
      '@expect checks a single reply; a burst (@repeat) reports loss and round-trip times instead. Remove one of them.',
      'error',
    );
    mark(block.retries, '@retries does not apply to a burst: each of its datagrams is sent once.', 'warning');
  } else {
    mark(block.ratePerSecond, '@rate only applies to a burst: add @repeat N to send N datagrams at this rate.', 'warning');
    mark(block.tag, '@tag only applies to a burst: add @repeat N to send N datagrams.', 'warning');
  }
  const kind = block.target && isIP(block.target.value.host) !== 0 ? groupKind(block.target.value.host) : undefined;
  if (block.repeat && kind !== undefined) {
    mark(
      block.repeat,
      `A burst (@repeat) matches one reply to each datagram, and a ${kind === 'multicast' ? 'group' : 'broadcast'} gets many: send to it without @repeat to collect every reply, or burst to one of its members.`,
      'error',
    );
  }
  // A host name may turn out to be a group once resolved: only a literal target is known not to be one.
  if (block.target && isIP(block.target.value.host) !== 0 && kind !== 'multicast') {
    for (const header of [block.ttl, block.loopback, block.interface]) {
      mark(header, 'This header only applies to a multicast group target (224.0.0.0/4 or ff00::/8).', 'warning');
    }
  }
  if (kind === 'multicast') {
    mark(block.broadcast, '@broadcast applies to broadcast addresses, not to a multicast group.', 'warning');
  }
  if (block.expect?.value.kind === 'none') {
    mark(block.retries, '@retries does not apply with @expect none: the datagram is sent once and the reply awaited once.', 'warning');
  }
}
