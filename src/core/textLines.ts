/**
 * The lines of a text (ended by \r\n, \r or \n) as offsets into it. A line's string is made only when asked for and
 * can be dropped at once, so a file of millions of short lines costs two typed arrays, not millions of strings kept
 * alive for the whole parse (what made `split` slow and heavy on large files: the garbage collector copying them).
 */
export class TextLines {
  readonly count: number;
  private readonly starts: Int32Array;
  /** Where each line's text ends, before its line break. */
  private readonly ends: Int32Array;

  constructor(readonly text: string) {
    let count = 1;
    forEachBreak(text, () => count++);
    this.count = count;
    this.starts = new Int32Array(count);
    this.ends = new Int32Array(count);
    let line = 0;
    forEachBreak(text, (at, next) => {
      this.ends[line++] = at;
      this.starts[line] = next;
    });
    this.ends[line] = text.length;
  }

  /** The text of a line, without its line break. */
  at(line: number): string {
    return this.text.slice(this.starts[line], this.ends[line]);
  }

  length(line: number): number {
    return this.ends[line] - this.starts[line];
  }

  /** The lines, in order, joined with \n: a single slice of the text when they follow each other with \n ends. */
  join(lines: readonly number[]): string {
    if (lines.length === 0) return '';
    const first = lines[0];
    const last = lines[lines.length - 1];
    let adjacent = last - first === lines.length - 1;
    for (let i = first; adjacent && i < last; i++) {
      adjacent = this.starts[i + 1] === this.ends[i] + 1 && this.text.charCodeAt(this.ends[i]) === 0x0a;
    }
    if (adjacent) return this.text.slice(this.starts[first], this.ends[last]);
    return lines.map((line) => this.at(line)).join('\n');
  }
}

/** Calls `found` with the offset of each line break and of the line after it, in order. */
function forEachBreak(text: string, found: (at: number, next: number) => void): void {
  let newline = text.indexOf('\n');
  let carriage = text.indexOf('\r');
  while (newline !== -1 || carriage !== -1) {
    if (carriage === -1 || (newline !== -1 && newline < carriage)) {
      found(newline, newline + 1);
      newline = text.indexOf('\n', newline + 1);
    } else {
      const crlf = newline === carriage + 1;
      const next = carriage + (crlf ? 2 : 1);
      found(carriage, next);
      if (crlf) newline = text.indexOf('\n', next);
      carriage = text.indexOf('\r', next);
    }
  }
}
