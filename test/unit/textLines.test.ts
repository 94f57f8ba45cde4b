import * as assert from 'node:assert/strict';
import { TextLines } from '../../src/core/textLines';

const all = (lines: TextLines): string[] => Array.from({ length: lines.count }, (_, line) => lines.at(line));

describe('TextLines', () => {
  it('splits at \\r\\n, \\r and \\n as split(/\\r\\n|\\r|\\n/) does', () => {
    for (const text of ['', 'a', '\n', 'a\nb', 'a\r\nb\rc\n', '\r\r\n\n\r', 'x\r', '\n\r', 'é\r\n中\n😀']) {
      const lines = new TextLines(text);
      assert.deepEqual(all(lines), text.split(/\r\n|\r|\n/), JSON.stringify(text));
      assert.deepEqual(
        all(lines).map((line) => line.length),
        Array.from({ length: lines.count }, (_, line) => lines.length(line)),
      );
    }
  });

  it('joins lines with \\n, as one slice of the text when they follow each other with \\n ends', () => {
    const lines = new TextLines('zero\none\ntwo\r\nthree\nfour');
    assert.equal(lines.join([1, 2]), 'one\ntwo');
    assert.equal(lines.join([2, 3]), 'two\nthree', 'a \\r\\n between them becomes \\n');
    assert.equal(lines.join([0, 1]), 'zero\none');
    assert.equal(lines.join([0, 4]), 'zero\nfour');
    assert.equal(lines.join([3, 4]), 'three\nfour');
    assert.equal(lines.join([]), '');
  });
});
