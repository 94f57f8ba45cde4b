import { randomInt, randomUUID } from 'node:crypto';
import { escapeText } from '../escapeText';

/**
 * `{{name}}` and `{{$builtin}}` references in the text of a `.udp` file: finding them (with positions, for
 * diagnostics) and filling them in (at send time, once per datagram).
 */

/** A piece of a text: literal text, a file variable, or a built-in whose value changes per datagram. */
export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string; readonly start: number }
  | { readonly kind: 'variable'; readonly name: string; readonly start: number; readonly end: number }
  | { readonly kind: 'seq' | 'timestamp' | 'uuid'; readonly start: number; readonly end: number }
  | { readonly kind: 'randomInt'; readonly min: number; readonly max: number; readonly start: number; readonly end: number };

/** What is wrong with a reference, as offsets into the scanned text (`end` exclusive). */
export interface TemplateProblem {
  readonly start: number;
  readonly end: number;
  readonly message: string;
}

export interface ScannedTemplate {
  readonly parts: readonly TemplatePart[];
  readonly problems: readonly TemplateProblem[];
  /** At least one part is a reference. */
  readonly hasReferences: boolean;
}

const BUILTINS_HINT = 'Built-ins: {{$seq}}, {{$timestamp}}, {{$uuid}}, {{$randomInt min max}}.';
const VARIABLE_NAME = /^[A-Za-z_][\w.-]*$/;
const INTEGER = /^[+-]?\d{1,16}$/;

/** A file variable's name as the `@name = value` line and `{{name}}` write it. */
function isVariableName(text: string): boolean {
  return VARIABLE_NAME.test(text);
}

/**
 * Splits `text` into literal text and `{{…}}` references. A reference never spans a line: a `{{` with no `}}`
 * before the end of its line is reported once and the rest of that line is kept as literal text.
 * Linear in the length of `text`, whatever it holds.
 */
export function scanTemplate(text: string, isDefined: (name: string) => boolean): ScannedTemplate {
  const parts: TemplatePart[] = [];
  const problems: TemplateProblem[] = [];
  let literalStart = 0;
  let pos = 0;
  // The next "}}" and the next newline at or after `pos`; searched again only once `pos` passes them,
  // so a line full of "{{" costs one scan, not one per "{{".
  let close = -2;
  let newline = -2;
  const pushLiteral = (end: number): void => {
    if (end > literalStart) parts.push({ kind: 'text', text: text.slice(literalStart, end), start: literalStart });
  };

  for (;;) {
    const open = text.indexOf('{{', pos);
    if (open === -1) break;
    if (close !== -1 && close < open + 2) close = text.indexOf('}}', open + 2);
    if (newline !== -1 && newline < open + 2) newline = text.indexOf('\n', open + 2);
    const lineEnd = newline === -1 ? text.length : newline;
    if (close === -1 || close > lineEnd) {
      problems.push({ start: open, end: lineEnd, message: 'Unterminated {{: close it with }} on the same line.' });
      pos = lineEnd;
      continue;
    }
    pushLiteral(open);
    const reference = readReference(text.slice(open + 2, close), open, close + 2, isDefined);
    if ('message' in reference) problems.push(reference);
    else parts.push(reference);
    literalStart = pos = close + 2;
  }
  pushLiteral(text.length);
  return { parts, problems, hasReferences: parts.some((part) => part.kind !== 'text') };
}

function readReference(inner: string, start: number, end: number, isDefined: (name: string) => boolean): TemplatePart | TemplateProblem {
  const words = inner.trim().split(/\s+/);
  const [name = ''] = words;
  if (name.startsWith('$')) return readBuiltin(name, words.slice(1), start, end);
  if (!isVariableName(name) || words.length > 1) {
    return { start, end, message: `{{${escapeText(inner, 'source')}}} is not a variable reference: write {{name}}. ${BUILTINS_HINT}` };
  }
  if (!isDefined(name)) {
    return { start, end, message: `Unknown variable {{${name}}}: define it at the top of the file with @${name} = value.` };
  }
  return { kind: 'variable', name, start, end };
}

function readBuiltin(name: string, args: string[], start: number, end: number): TemplatePart | TemplateProblem {
  if (name === '$randomInt') {
    const numbers = args.map(Number);
    const [min, max] = numbers;
    // The limits of crypto.randomInt, which draws the numbers.
    const valid =
      args.length === 2 &&
      args.every((arg) => INTEGER.test(arg)) &&
      numbers.every(Number.isSafeInteger) &&
      min < max &&
      max - min < 2 ** 48;
    if (!valid) {
      return {
        start,
        end,
        message: 'Write {{$randomInt min max}} with two integers, min < max: a number from min up to, not including, max.',
      };
    }
    return { kind: 'randomInt', min, max, start, end };
  }
  const kind = ({ $seq: 'seq', $timestamp: 'timestamp', $uuid: 'uuid' } as const)[name as '$seq'];
  if (kind === undefined) return { start, end, message: `Unknown built-in {{${escapeText(name, 'source')}}}. ${BUILTINS_HINT}` };
  if (args.length > 0) return { start, end, message: `{{${name}}} takes no arguments.` };
  return { kind, start, end };
}

/** Values that change per datagram; tests pass fixed ones. */
export interface BuiltinValues {
  /** The datagram's number, counted by whoever sends. */
  readonly seq: number;
  readonly now?: () => number;
  readonly uuid?: () => string;
  /** A whole number from `min` up to, not including, `max`. */
  readonly randomInt?: (min: number, max: number) => number;
}

/** Fills in a scanned template. Parts that were reported as problems were dropped by `scanTemplate`. */
export function renderRequestTemplate(
  parts: readonly TemplatePart[],
  variables: ReadonlyMap<string, { readonly value: string }>,
  builtins: BuiltinValues,
): string {
  let out = '';
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        out += part.text;
        break;
      case 'variable':
        out += variables.get(part.name)?.value ?? '';
        break;
      case 'seq':
        out += String(builtins.seq);
        break;
      case 'timestamp':
        out += String((builtins.now ?? Date.now)());
        break;
      case 'uuid':
        out += (builtins.uuid ?? randomUUID)();
        break;
      case 'randomInt':
        out += String((builtins.randomInt ?? randomInt)(part.min, part.max));
        break;
    }
  }
  return out;
}

/** A header's value with its file variables filled in, and the way back to the columns the user wrote. */
export interface ExpandedText {
  readonly text: string;
  /** The source range of `[start, end)` in `text`; a range that reaches into a filled-in value covers its whole `{{name}}`. */
  toSource(start: number, end: number): { start: number; end: number };
}

interface Piece {
  /** Where the piece starts in the expanded text, and its length there. */
  readonly at: number;
  readonly length: number;
  /** Where it was written in the source. */
  readonly start: number;
  readonly end: number;
  readonly literal: boolean;
}

/** Fills in the file variables of a scanned header value; a header has no built-ins (they change per datagram). */
export function expandFileVariables(
  source: string,
  parts: readonly TemplatePart[],
  variables: ReadonlyMap<string, { readonly value: string }>,
): ExpandedText {
  if (parts.every((part) => part.kind === 'text')) return { text: source, toSource: (start, end) => ({ start, end }) };
  const pieces: Piece[] = [];
  let text = '';
  for (const part of parts) {
    const value = part.kind === 'text' ? part.text : part.kind === 'variable' ? (variables.get(part.name)?.value ?? '') : '';
    const end = part.kind === 'text' ? part.start + value.length : part.end;
    pieces.push({ at: text.length, length: value.length, start: part.start, end, literal: part.kind === 'text' });
    text += value;
  }
  const pieceAt = (offset: number): Piece | undefined => pieces.find((piece) => piece.at <= offset && offset < piece.at + piece.length);
  const toSourceStart = (offset: number): number => {
    const piece = pieceAt(offset);
    if (piece === undefined) return source.length;
    return piece.literal ? piece.start + offset - piece.at : piece.start;
  };
  const toSourceEnd = (offset: number): number => {
    const piece = pieceAt(offset - 1);
    if (piece === undefined) return toSourceStart(offset);
    return piece.literal ? piece.start + offset - piece.at : piece.end;
  };
  return {
    text,
    toSource: (start, end) => {
      const from = toSourceStart(start);
      return { start: from, end: Math.max(from, end > start ? toSourceEnd(end) : from) };
    },
  };
}
