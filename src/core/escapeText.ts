/**
 * Text from outside (a datagram, a `.udp` file, a setting, what the user typed) made safe to show on one line
 * of the log or in a message. Control characters, line and paragraph separators, format characters (the
 * bidirectional controls U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069, zero-width characters, tags) and lone
 * surrogates become escapes, so such text can neither break a line, reorder it nor hide part of it. So do
 * combining marks that have no letter to sit on (at the start, after a space or after an escape): shown, they would
 * join the quote or the escape before them (bytes `de ad` are a lone Thaana mark). In quoted text the backslash and
 * the double quote are escaped too, so two different texts never look alike.
 */
const QUOTED_ESCAPES = /[\\"\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]|(?<=^|[\s\p{C}\\"])\p{M}+/gu;
/**
 * Text written in a syntax with backslash escapes of its own (a regular expression, a quoted string or a template
 * in a `.udp` file) keeps its backslashes and quotes: they already say what they mean there.
 */
const SOURCE_ESCAPES = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]|(?<=^|[\s\p{C}])\p{M}+/gu;

const NAMED: ReadonlyMap<string, string> = new Map([
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\\', '\\\\'],
  ['"', '\\"'],
]);

/** `syntax: 'source'` leaves backslashes and quotes alone, for text written with escapes of its own. */
export function escapeText(text: string, syntax: 'quoted' | 'source' = 'quoted'): string {
  return text.replace(syntax === 'quoted' ? QUOTED_ESCAPES : SOURCE_ESCAPES, escapeChars);
}

/** `"text"`, escaped as above. */
export function quoteText(text: string): string {
  return `"${escapeText(text)}"`;
}

/** A run of marks matches as one: each becomes its escape. */
function escapeChars(match: string): string {
  return match.length === 1 ? escapeChar(match) : Array.from(match, escapeChar).join('');
}

function escapeChar(char: string): string {
  const named = NAMED.get(char);
  if (named !== undefined) return named;
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x80) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}
