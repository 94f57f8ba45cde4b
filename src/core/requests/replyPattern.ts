import { RE2JS, RE2JSException } from 're2js';

/**
 * The regular expression of `@expect matches /…/flags`, run by RE2 (the re2js port): its time grows linearly with
 * the reply whatever the pattern, where a backtracking engine can take minutes over a nested quantifier such as
 * /^(a+)+$/. The parser and the check both build patterns here, so what the editor accepts is what runs.
 */

export interface ReplyPattern {
  /** Whether the pattern matches somewhere in the text (at its start only, with the y flag). */
  test(text: string): boolean;
}

/**
 * RE2 checks a reply against every instruction of the pattern at once, so a pattern's size multiplies the time per
 * byte; this many instructions keep the worst pattern to about 20 ms of CPU on the largest datagram (see bench).
 */
const MAX_PATTERN_INSTRUCTIONS = 500;

const PATTERN_FLAGS = 'i, m, s, u, g and y';

/** What each flag users write in JavaScript becomes; g and u change nothing when one reply is tested once. */
const FLAG_BITS: Readonly<Record<string, number>> = {
  i: RE2JS.CASE_INSENSITIVE,
  m: RE2JS.MULTILINE,
  s: RE2JS.DOTALL,
  // RE2 always reads the text by code point, as JavaScript does with u.
  u: 0,
  // One reply is tested once: nothing to carry over from one match to the next.
  g: 0,
  y: 0,
};

/** JavaScript syntax RE2 refuses, found in its message, and what to write instead. */
const INSTEAD: readonly { readonly refused: RegExp; readonly advice: string }[] = [
  {
    refused: /invalid named capture: `\(\?<[=!]/,
    advice: 'RE2 has no lookbehind ((?<=…), (?<!…)): match the text before as part of the pattern',
  },
  {
    refused: /unsupported Perl syntax: `\(\?[=!]/,
    advice: 'RE2 has no lookahead ((?=…), (?!…)): match the text after as part of the pattern, or drop it',
  },
  {
    refused: /invalid escape sequence: `\\(?:[1-9]|k)/,
    advice: "RE2 has no backreferences (\\1, \\k<name>): write the repeated text out, or match it with the group's pattern again",
  },
  {
    refused: /invalid escape sequence: `\\u/,
    advice: 'Write \\x{263A} (or \\x41) for a character by its code, instead of \\u263A or \\u{263A}',
  },
  { refused: /invalid escape sequence: `\\c/, advice: 'Write \\x01 for a control character, instead of \\cA' },
];

export type CompiledReplyPattern = { readonly pattern: ReplyPattern } | { readonly message: string };

/**
 * A file repeats a few patterns over many blocks and is parsed again on every edit: each pattern is judged once.
 * Only the verdict is kept, not the compiled pattern, whose cache of states can grow to megabytes while it checks.
 */
const verdicts = new Map<string, string | null>();
const MAX_VERDICTS = 256;
/** Longer patterns are judged each time rather than kept as keys. */
const MAX_KEPT_PATTERN = 1_000;

/** What is wrong with a pattern, or undefined when RE2 can run it. */
export function replyPatternProblem(source: string, flags: string): string | undefined {
  if (source.length > MAX_KEPT_PATTERN) {
    const compiled = compileReplyPattern(source, flags);
    return 'message' in compiled ? compiled.message : undefined;
  }
  const key = `${flags}/${source}`;
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    const compiled = compileReplyPattern(source, flags);
    verdict = 'message' in compiled ? compiled.message : null;
    verdicts.set(key, verdict);
  }
  return verdict ?? undefined;
}

/** Builds the pattern, or says in a sentence what RE2 cannot run and what to write instead. */
export function compileReplyPattern(source: string, flags: string): CompiledReplyPattern {
  let bits = 0;
  for (const [index, flag] of [...flags].entries()) {
    if (!Object.hasOwn(FLAG_BITS, flag)) {
      return { message: `Bad regular expression: unknown flag "${flag}"; the flags are ${PATTERN_FLAGS}.` };
    }
    if (flags.indexOf(flag) !== index) return { message: `Bad regular expression: the flag "${flag}" is written twice.` };
    bits |= FLAG_BITS[flag];
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, bits);
    // Sticky at 0: the match must start where the reply starts. \A ignores the m flag, as y does.
    if (flags.includes('y')) compiled = RE2JS.compile(`\\A(?:${source})`, bits);
  } catch (err) {
    if (!(err instanceof RE2JSException)) throw err;
    return { message: refusal(err.message) };
  }
  const size = compiled.programSize();
  if (size > MAX_PATTERN_INSTRUCTIONS) {
    return {
      message: `Regular expression too large: it compiles to ${size} instructions, at most ${MAX_PATTERN_INSTRUCTIONS}; write a shorter one, with smaller {n} counts.`,
    };
  }
  return { pattern: { test: (text) => compiled.test(text) } };
}

function refusal(engineMessage: string): string {
  const reason = engineMessage.replace(/^error parsing regexp: /, '');
  const instead = INSTEAD.find(({ refused }) => refused.test(reason));
  // RE2 quotes the part it stopped at, which can be the whole pattern: keep the message one short line.
  const shown = reason.replace(/`([^]*)`$/, (_, part: string) => `\`${shorten(part)}\``);
  return `Bad regular expression: ${shown}${instead ? `. ${instead.advice}.` : ' (RE2 syntax).'}`;
}

const QUOTED_CHARS = 40;

function shorten(text: string): string {
  if (text.length <= QUOTED_CHARS) return text;
  const high = text.charCodeAt(QUOTED_CHARS - 1);
  return `${text.slice(0, high >= 0xd800 && high <= 0xdbff ? QUOTED_CHARS - 1 : QUOTED_CHARS)}…`;
}
