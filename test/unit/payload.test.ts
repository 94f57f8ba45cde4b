import * as assert from 'node:assert/strict';
import { WorkbenchError, type WorkbenchErrorCode } from '../../src/core/errors';
import {
  checkDatagramSize,
  encodePayload,
  hexDump,
  isPrintable,
  PAYLOAD_ENCODINGS,
  previewText,
  type PayloadEncoding,
} from '../../src/core/payload';

function assertFails(run: () => unknown, code: WorkbenchErrorCode, offset?: number): WorkbenchError {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof WorkbenchError, `expected a WorkbenchError, got ${String(err)}`);
    assert.equal(err.code, code, err.text);
    if (offset !== undefined) assert.equal(err.offset, offset, err.text);
    assert.ok(err.hint.length > 0, 'every error says how to fix it');
    return err;
  }
  assert.fail('expected an error');
}

const bytes = (...values: number[]) => Buffer.from(values);

describe('encodePayload', () => {
  it('lists every encoding', () => {
    assert.deepEqual([...PAYLOAD_ENCODINGS], ['utf8', 'escaped', 'hex', 'base64']);
  });

  it('encodes an empty text as no bytes in every encoding', () => {
    for (const encoding of PAYLOAD_ENCODINGS) assert.equal(encodePayload('', encoding).length, 0, encoding);
  });

  describe('utf8', () => {
    it('takes the text as it is, backslashes included', () => {
      assert.deepEqual(encodePayload('héllo \\n', 'utf8'), Buffer.from('héllo \\n', 'utf8'));
    });
  });

  describe('escaped', () => {
    const encode = (text: string) => encodePayload(text, 'escaped');

    it('turns escapes into bytes and the rest into UTF-8', () => {
      assert.deepEqual(encode(String.raw`a\nb\r\t\0\\\"\'`), Buffer.from('a\nb\r\t\0\\"\'', 'binary'));
      assert.deepEqual(encode(String.raw`\x00\xFF\x7f`), bytes(0x00, 0xff, 0x7f));
      assert.deepEqual(encode(String.raw`é\x41€`), Buffer.from('éA€', 'utf8'));
      assert.deepEqual(encode(String.raw`\\x41`), Buffer.from('\\x41'));
    });

    it('rejects unknown and short escapes at the backslash', () => {
      assert.match(
        assertFails(() => encode(String.raw`ab\q`), 'BAD_ESCAPE', 2).message,
        /column 3: a backslash followed by "q" is not an escape/,
      );
      assertFails(() => encode(String.raw`\x4`), 'BAD_ESCAPE', 0);
      assertFails(() => encode(String.raw`x\xg0`), 'BAD_ESCAPE', 1);
      assert.match(assertFails(() => encode('abc\\'), 'BAD_ESCAPE', 3).message, /lone backslash/);
      assertFails(() => encode('\\\n'), 'BAD_ESCAPE', 0);
    });
  });

  describe('hex', () => {
    const encode = (text: string) => encodePayload(text, 'hex');

    it('reads pairs and ignores separators and 0x prefixes', () => {
      const deadbeef = bytes(0xde, 0xad, 0xbe, 0xef);
      for (const text of [
        'deadbeef',
        'de ad be ef',
        'DE:AD:BE:EF',
        'de,ad,be,ef',
        'de-ad-be-ef',
        '0xde, 0xad, 0xbe, 0xef',
        '0XDEADBEEF',
        ' de\n\tad  be\r\nef ',
      ]) {
        assert.deepEqual(encode(text), deadbeef, text);
      }
    });

    it('names the bad character and its 1-based column', () => {
      const error = assertFails(() => encode('de ad g0'), 'BAD_HEX', 6);
      assert.equal(error.message, 'Malformed hex: "g" at column 7 is not a hex digit.');
      assert.equal(error.hint, 'Use pairs of 0-9 a-f, optionally separated by spaces, colons or commas, e.g. "de ad be ef".');
      assertFails(() => encode('0x0x12'), 'BAD_HEX', 3);
      assertFails(() => encode('de0xad'), 'BAD_HEX', 3);
    });

    it('rejects a group with an odd number of digits at its start', () => {
      assert.match(assertFails(() => encode('de adb ef'), 'BAD_HEX', 3).message, /"adb" at column 4 has an odd number of digits/);
      assertFails(() => encode('abc'), 'BAD_HEX', 0);
      assertFails(() => encode('0x1, 0x2'), 'BAD_HEX', 2);
    });
  });

  describe('base64', () => {
    const encode = (text: string) => encodePayload(text, 'base64');

    it('reads standard and URL-safe base64, with or without padding and whitespace', () => {
      for (const text of ['aGVsbG8=', 'aGVsbG8', ' aGVs\nbG8= ']) assert.deepEqual(encode(text), Buffer.from('hello'), text);
      assert.deepEqual(encode('+/8='), bytes(0xfb, 0xff));
      assert.deepEqual(encode('-_8'), bytes(0xfb, 0xff));
      assert.deepEqual(encode('QQ=='), bytes(0x41));
    });

    it('rejects what Buffer.from would silently skip', () => {
      assert.match(assertFails(() => encode('aGV*sbG8='), 'BAD_BASE64', 3).message, /"\*" at column 4 is not a base64 character/);
      assertFails(() => encode('QQ==QQ'), 'BAD_BASE64', 4);
      assertFails(() => encode('Q==='), 'BAD_BASE64', 3);
      assertFails(() => encode('QQ='), 'BAD_BASE64', 2);
      assertFails(() => encode('QUJDR'), 'BAD_BASE64', 4);
    });
  });
});

describe('checkDatagramSize', () => {
  it('accepts up to the UDP limit of each IP version', () => {
    checkDatagramSize(65507, 4);
    checkDatagramSize(65527, 6);
  });

  it('says how big the datagram is and how big it may be', () => {
    const error = assertFails(() => checkDatagramSize(70000, 4), 'DATAGRAM_TOO_LARGE');
    assert.equal(error.message, 'The datagram is 70,000 bytes; UDP over IPv4 carries at most 65,507.');
    assert.match(error.hint, /split/);
    assertFails(() => checkDatagramSize(65528, 6), 'DATAGRAM_TOO_LARGE');
  });
});

describe('isPrintable', () => {
  it('accepts UTF-8 text with tabs and line breaks', () => {
    for (const text of ['', 'hello', 'a\tb\r\nc', 'héllo €😀']) assert.equal(isPrintable(Buffer.from(text)), true, text);
  });

  it('rejects control characters and bytes that are not UTF-8', () => {
    for (const buf of [
      bytes(0),
      bytes(0x61, 0x1b),
      bytes(0x7f),
      Buffer.from('\u0085'),
      bytes(0xff),
      bytes(0xe2, 0x82),
      bytes(0xc0, 0x80),
    ]) {
      assert.equal(isPrintable(buf), false, buf.toString('hex'));
    }
  });
});

describe('previewText', () => {
  it('quotes text on one line with control characters escaped', () => {
    assert.equal(previewText(Buffer.from('hi\n\t\r\0\x1b'), 100), String.raw`"hi\n\t\r\x00\x1b"`);
    assert.equal(previewText(Buffer.alloc(0), 100), '""');
  });

  it('escapes bytes that are not UTF-8 one by one', () => {
    assert.equal(previewText(bytes(0xff, 0x41, 0xe2, 0x82), 100), String.raw`"\xffA\xe2\x82"`);
  });

  it('escapes characters that could break or reorder the log line', () => {
    assert.equal(previewText(Buffer.from('a\u2028b\u202ec\u0085'), 100), String.raw`"a\u2028b\u202ec\u0085"`);
  });

  it('escapes a combining mark that binary bytes spell, so it cannot join the quote or an escape beside it', () => {
    assert.equal(previewText(bytes(0xde, 0xad), 100), String.raw`"\u07ad"`);
    assert.equal(previewText(bytes(0xff, 0xcc, 0x81, 0x41), 100), String.raw`"\xff\u0301A"`);
    assert.equal(previewText(Buffer.from('caf\u00e9 cafe\u0301'), 100), '"caf\u00e9 cafe\u0301"', 'accents on their letters stay');
  });

  it('tells look-alike datagrams apart: a backslash and a quote are escaped too', () => {
    const newline = previewText(Buffer.from('a\nb'), 100);
    const backslashN = previewText(Buffer.from('a\\nb'), 100);
    assert.equal(newline, String.raw`"a\nb"`);
    assert.equal(backslashN, String.raw`"a\\nb"`);
    assert.notEqual(newline, backslashN);
    assert.equal(previewText(Buffer.from('say "hi"'), 100), String.raw`"say \"hi\""`);
    assert.notEqual(previewText(Buffer.from(String.raw`\xff`), 100), previewText(bytes(0xff), 100));
  });

  it('escapes every bidirectional, invisible and format character', () => {
    const sneaky = '\u061c\u200e\u200f\u202a\u202d\u2066\u2069\u200b\ufeff\u{e0041}';
    assert.equal(
      previewText(Buffer.from(`a${sneaky}b`), 100),
      String.raw`"a\u061c\u200e\u200f\u202a\u202d\u2066\u2069\u200b\ufeff\u{e0041}b"`,
    );
  });

  it('says how much was cut, and never cuts a character in half', () => {
    assert.equal(previewText(Buffer.from('hello world'), 5), '"hello" … (+6 bytes)');
    assert.equal(previewText(Buffer.from('ab€'), 4), '"ab" … (+3 bytes)');
    assert.equal(previewText(Buffer.from('ab€'), 5), '"ab€"');
    assert.equal(previewText(Buffer.from('ab'), 1), '"a" … (+1 byte)');
    assert.equal(previewText(Buffer.from('ab'), 0), '"" … (+2 bytes)');
  });
});

describe('hexDump', () => {
  it('writes the classic offset, hex and ASCII columns', () => {
    assert.deepEqual(hexDump(Buffer.from('Hello world\n'), 256), [
      '0000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a              |Hello world.|',
    ]);
  });

  it('writes 16 bytes a line and says how many were not shown', () => {
    const lines = hexDump(Buffer.from(Array.from({ length: 40 }, (_, i) => i)), 20);
    assert.deepEqual(lines, [
      '0000  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f  |................|',
      '0010  10 11 12 13                                       |....|',
      '… (+20 bytes not shown)',
    ]);
  });

  it('writes nothing for no bytes', () => {
    assert.deepEqual(hexDump(Buffer.alloc(0), 16), []);
  });

  it('widens the offset column past 64 KiB', () => {
    const lines = hexDump(Buffer.alloc(0x10010), 0x10010);
    assert.match(lines.at(-1) ?? '', /^10000 {2}00 /);
  });
});

describe('encodings agree with Node on valid input', () => {
  const sample = Buffer.from(Array.from({ length: 256 }, (_, i) => (i * 37) % 256));
  const cases: [PayloadEncoding, string][] = [
    ['hex', sample.toString('hex')],
    ['base64', sample.toString('base64')],
    ['base64', sample.toString('base64url')],
  ];
  for (const [encoding, text] of cases) {
    it(`${encoding}: ${text.slice(0, 12)}…`, () => assert.deepEqual(encodePayload(text, encoding), sample));
  }
});

describe('previewText at the edges of UTF-8', () => {
  const shown = (hex: string): string => previewText(Buffer.from(hex.replace(/ /g, ''), 'hex'), 64);
  it('shows each well-formed character at the limits of its lead and second byte as text', () => {
    for (const hex of ['c2 a9', 'df bf', 'e0 a0 80', 'ef bf bd', 'ed 9f bf', 'f0 90 80 80', 'f4 8f bf bf', 'e1 80 80', 'f3 bf bf bf']) {
      assert.doesNotMatch(shown(hex), /\\x/, hex);
      assert.equal(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(hex.replace(/ /g, ''), 'hex')).length > 0, true);
    }
  });

  it('shows overlong forms, surrogates, code points past U+10FFFF, bad continuations and cut sequences as \\xHH', () => {
    const cases: Array<[string, string]> = [
      ['c1 bf', '"\\xc1\\xbf"'],
      ['e0 9f bf', '"\\xe0\\x9f\\xbf"'],
      ['ed a0 80', '"\\xed\\xa0\\x80"'],
      ['f0 8f bf bf', '"\\xf0\\x8f\\xbf\\xbf"'],
      ['f4 90 80 80', '"\\xf4\\x90\\x80\\x80"'],
      ['f5 80 80 80', '"\\xf5\\x80\\x80\\x80"'],
      ['e0 a0 41', '"\\xe0\\xa0A"'],
      ['f0 90 80 41', '"\\xf0\\x90\\x80A"'],
      ['41 e0 a0', '"A\\xe0\\xa0"'],
    ];
    for (const [hex, expected] of cases) assert.equal(shown(hex), expected, hex);
  });
});

describe('white space between hex and base64 groups', () => {
  it('is exactly what /\\s/ matches (besides hex separators), from U+0000 to U+3100 and around U+FEFF', () => {
    const codes = [...Array.from({ length: 0x3100 }, (_, code) => code), 0xfefe, 0xfeff, 0xff00];
    const wrong: string[] = [];
    for (const code of codes) {
      // A lone surrogate is no character; ',', '-' and ':' separate hex bytes as they are meant to.
      if ((code >= 0xd800 && code <= 0xdfff) || ',-:'.includes(String.fromCharCode(code))) continue;
      const space = String.fromCharCode(code);
      const readsHex = (): boolean => {
        try {
          return encodePayload(`de${space}ad`, 'hex').equals(Buffer.from('dead', 'hex'));
        } catch {
          return false;
        }
      };
      const readsBase64 = (): boolean => {
        try {
          return encodePayload(`3q2+${space}7w==`, 'base64').equals(Buffer.from('deadbeef', 'hex'));
        } catch {
          return false;
        }
      };
      const expected = /\s/.test(space);
      if (readsHex() !== expected || readsBase64() !== expected) wrong.push(`U+${code.toString(16).padStart(4, '0')}`);
    }
    assert.deepEqual(wrong, []);
  });
});
