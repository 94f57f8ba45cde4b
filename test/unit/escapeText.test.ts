import * as assert from 'node:assert/strict';
import { parseEndpoint } from '../../src/core/endpoint';
import { badSetting, quoteCharAt, quoteInput, WorkbenchError } from '../../src/core/errors';
import { escapeText, quoteText } from '../../src/core/escapeText';

/** Every character that could break, reorder or hide part of a log line, or pass for other text. */
const SNEAKY: ReadonlyArray<[string, string]> = [
  ['\n', String.raw`\n`],
  ['\r', String.raw`\r`],
  ['\t', String.raw`\t`],
  ['\0', String.raw`\x00`],
  ['\x1b', String.raw`\x1b`],
  ['\x7f', String.raw`\x7f`],
  ['\u0085', String.raw`\u0085`],
  ['\u00ad', String.raw`\u00ad`],
  ['\u061c', String.raw`\u061c`],
  ['\u200b', String.raw`\u200b`],
  ['\u200e', String.raw`\u200e`],
  ['\u200f', String.raw`\u200f`],
  ['\u2028', String.raw`\u2028`],
  ['\u2029', String.raw`\u2029`],
  ['\u202a', String.raw`\u202a`],
  ['\u202e', String.raw`\u202e`],
  ['\u2066', String.raw`\u2066`],
  ['\u2069', String.raw`\u2069`],
  ['\ufeff', String.raw`\ufeff`],
  ['\u{e0001}', String.raw`\u{e0001}`],
  ['\ud800', String.raw`\ud800`],
];

describe('escapeText', () => {
  for (const [char, escaped] of SNEAKY) {
    it(`escapes U+${char.codePointAt(0)!.toString(16).padStart(4, '0')} as ${escaped}`, () => {
      assert.equal(escapeText(`a${char}b`), `a${escaped}b`);
    });
  }

  it('escapes the backslash and the double quote, so escaped text reads back as one text only', () => {
    assert.equal(escapeText(String.raw`C:\dir "x"`), String.raw`C:\\dir \"x\"`);
    assert.notEqual(escapeText('a\nb'), escapeText(String.raw`a\nb`));
    assert.notEqual(escapeText('\u202e'), escapeText(String.raw`\u202e`));
  });

  it('leaves letters of every script, emoji and accents alone', () => {
    for (const text of ['héllo', 'مرحبا', 'שלום', '日本語', '😀', "it's", 'a/b']) assert.equal(escapeText(text), text);
  });

  it('escapes combining marks with no letter to sit on, and keeps those that have one', () => {
    assert.equal(escapeText('\u07ad'), String.raw`\u07ad`, 'a lone Thaana mark');
    assert.equal(escapeText('\u0301\u0302x'), String.raw`\u0301\u0302x`, 'a run of marks at the start');
    assert.equal(escapeText('a \u0301'), String.raw`a \u0301`, 'after a space');
    assert.equal(escapeText('\x01\u0301'), String.raw`\x01\u0301`, 'after an escaped control character');
    assert.equal(escapeText('"\u0301'), String.raw`\"\u0301`, 'after an escaped quote');
    assert.equal(escapeText('\u0301', 'source'), String.raw`\u0301`);
    for (const text of ['e\u0301', 'क्षि', 'ไม้', 'مَرْحَبًا', '❤\ufe0f', '👍🏽', 'a\u0301\u0302']) assert.equal(escapeText(text), text);
  });

  it('keeps the backslashes of a regular expression, escaping only what would hide or reorder it', () => {
    assert.equal(escapeText(String.raw`^\d+"\u202e`, 'source'), String.raw`^\d+"\u202e`);
    assert.equal(escapeText('^a\u202eb$', 'source'), String.raw`^a\u202eb$`);
  });
});

describe('quoting input in messages', () => {
  it('quotes with the same escapes', () => {
    assert.equal(quoteText('say "\u202ehi'), String.raw`"say \"\u202ehi"`);
    assert.equal(quoteInput('evil\u061chost'), String.raw`"evil\u061chost"`);
    assert.equal(quoteCharAt('a\u2066b', 1), String.raw`"\u2066"`);
    assert.equal(quoteCharAt('a😀', 1), '"😀"');
  });

  it('cuts long input without splitting a character', () => {
    const quoted = quoteInput(`${'x'.repeat(38)}😀 and more`);
    assert.equal(quoted, `"${'x'.repeat(38)}…"`);
  });

  it('escapes a host name typed with a bidirectional control in the error it causes', () => {
    const error = (() => {
      try {
        parseEndpoint('exam\u202eple.com:80');
      } catch (err) {
        return err;
      }
      assert.fail('parsed');
    })();
    assert.ok(error instanceof WorkbenchError);
    assert.ok(!/[\u202e]/u.test(error.text), error.text);
    assert.match(error.text, /"exam\\u202eple\.com:80"/);
  });

  it('escapes a bad setting quoted in its message', () => {
    assert.ok(badSetting('The mode', 'a\u2067b', 'one of x, y', 'Pick one.').text.startsWith(String.raw`The mode is "a\u2067b"`));
  });
});
