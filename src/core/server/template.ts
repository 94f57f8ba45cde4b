import { formatEndpoint } from '../endpoint';
import { quoteInput, WorkbenchError } from '../errors';
import type { Peer } from '../events';

/** What a reply template can refer to: the datagram being answered. */
export interface TemplateContext {
  readonly payload: Buffer;
  readonly peer: Peer;
  readonly seq: number;
}

/** Fills a template in for one datagram. */
export type CompiledTemplate = (context: TemplateContext) => Buffer;

const PLACEHOLDERS = {
  // The datagram's own bytes: its UTF-8 text, and binary data passes through unchanged.
  text: (context: TemplateContext) => context.payload,
  hex: (context: TemplateContext) => Buffer.from(context.payload.toString('hex')),
  size: (context: TemplateContext) => Buffer.from(String(context.payload.length)),
  peer: (context: TemplateContext) => Buffer.from(formatEndpoint(context.peer)),
  seq: (context: TemplateContext) => Buffer.from(String(context.seq)),
} as const;

type Part = Buffer | ((context: TemplateContext) => Buffer);

const PLACEHOLDER_LIST = Object.keys(PLACEHOLDERS).map((name) => `\${${name}}`);
const TEMPLATE_HINT = `Use ${PLACEHOLDER_LIST.slice(0, -1).join(', ')} or ${PLACEHOLDER_LIST.at(-1)}; write $\${ for a literal "\${".`;

/** Throws BAD_TEMPLATE at the first placeholder that is unknown or not closed. */
export function validateTemplate(template: string): void {
  parseTemplate(template);
}

/** Parses once, so that filling the template in per datagram only joins buffers. */
export function compileTemplate(template: string): CompiledTemplate {
  const parts = parseTemplate(template);
  return (context) => Buffer.concat(parts.map((part) => (Buffer.isBuffer(part) ? part : part(context))));
}

/** The template's fixed text between its placeholders, in order: what every reply it makes contains. Throws like compileTemplate. */
export function templateLiterals(template: string): Buffer[] {
  return parseTemplate(template).filter((part): part is Buffer => Buffer.isBuffer(part));
}

export function renderReplyTemplate(template: string, context: TemplateContext): Buffer {
  return compileTemplate(template)(context);
}

// Before a "{", "$$" stands for one literal "$" (so "$${text}" gives "${text}"); any other "$" is kept as it is.
function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let at = 0;
  for (let dollar = template.indexOf('$'); dollar !== -1; dollar = template.indexOf('$', at)) {
    const runEnd = endOfDollarRun(template, dollar);
    if (template[runEnd] !== '{') {
      literal += template.slice(at, runEnd);
      at = runEnd;
      continue;
    }
    const run = runEnd - dollar;
    literal += template.slice(at, dollar) + '$'.repeat(run >> 1);
    if (run % 2 === 0) {
      literal += '{';
      at = runEnd + 1;
      continue;
    }
    const { fill, end } = readPlaceholder(template, runEnd - 1);
    parts.push(Buffer.from(literal), fill);
    literal = '';
    at = end;
  }
  parts.push(Buffer.from(literal + template.slice(at)));
  return parts.filter((part) => !Buffer.isBuffer(part) || part.length > 0);
}

function endOfDollarRun(template: string, start: number): number {
  let end = start;
  while (template[end] === '$') end++;
  return end;
}

/** The placeholder whose "$" is at `start`, and the index after its "}". */
function readPlaceholder(template: string, start: number): { fill: Part; end: number } {
  const close = template.indexOf('}', start);
  if (close === -1) throw badTemplate(`${quoteInput(template.slice(start))} at column ${start + 1} has no closing "}"`, start);
  const name = template.slice(start + 2, close);
  if (!Object.hasOwn(PLACEHOLDERS, name)) {
    throw badTemplate(`${quoteInput(`\${${name}}`)} at column ${start + 1} is not a placeholder`, start);
  }
  return { fill: PLACEHOLDERS[name as keyof typeof PLACEHOLDERS], end: close + 1 };
}

function badTemplate(problem: string, offset: number): WorkbenchError {
  return new WorkbenchError('BAD_TEMPLATE', `The reply template is not valid: ${problem}.`, TEMPLATE_HINT, { offset });
}
