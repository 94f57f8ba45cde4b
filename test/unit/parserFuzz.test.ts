import * as assert from 'node:assert/strict';
import { formatEndpoint, parseEndpoint, parsePort, type EndpointOptions } from '../../src/core/endpoint';
import { WorkbenchError } from '../../src/core/errors';
import { encodePayload, hexDump, measurePayload, PAYLOAD_ENCODINGS, previewText } from '../../src/core/payload';
import { compileReplyPattern } from '../../src/core/requests/replyPattern';
import { renderReplyTemplate, validateTemplate } from '../../src/core/server/template';
import { createRandom } from '../../src/core/random';

const RUNS = 20_000;
const HUGE = 100_000;
/** Far above what a linear parser needs for 100k characters, far below what a quadratic one does. */
const SLOW_MS = 1_000;

const HOSTILE = [
  '[',
  ']',
  ']:',
  ':',
  '::',
  '::::',
  '%',
  '%eth0',
  '/',
  'udp://',
  'UDP://',
  'tcp://',
  '.',
  '..',
  '@',
  '#',
  '?',
  '127.0.0.1',
  '::1',
  '::ffff:127.0.0.1',
  'fe80::1',
  'localhost',
  '0',
  '-1',
  '65535',
  '65536',
  '99999999999999999999',
  '1e3',
  '0x10',
  '\\',
  '\\x',
  '\\x4',
  '\\xzz',
  '\\u{41}',
  '\\n',
  '\\0',
  '"',
  "'",
  '$',
  '$$',
  '${',
  '${${',
  '$${',
  '}',
  '{',
  '${text}',
  '${hex}',
  '${peer}',
  '${seq}',
  '${size}',
  '${nope}',
  'de',
  'ad',
  'DE',
  '0X',
  'g',
  ',',
  '-',
  'QQ',
  'aGVs',
  '+/',
  '-_',
  '=',
  '==',
  '===',
  ' ',
  '\t',
  '\n',
  '\r\n',
  '\u00a0',
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u2028',
  '\u202e',
  '\ufeff',
  '\ud800',
  '\udc00',
  '\ud83d\ude00',
  'é',
  '€',
  '中',
];

type Random = () => number;

const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)];

function randomString(random: Random): string {
  const length = Math.floor(random() * 24);
  switch (Math.floor(random() * 4)) {
    case 0:
      return Array.from({ length: Math.floor(random() * 8) }, () => pick(random, HOSTILE)).join('');
    case 1: // any UTF-16 code unit, lone surrogates included
      return String.fromCharCode(...Array.from({ length }, () => Math.floor(random() * 0x10000)));
    case 2: // random bytes read as text
      return String.fromCharCode(...Array.from({ length }, () => Math.floor(random() * 0x100)));
    default:
      return Array.from({ length }, () => pick(random, ['1', ':', '.', '[', ']', 'a', 'f', '0', ' ', '$', '{', '}', '\\', 'x', '='])).join(
        '',
      );
  }
}

function hugeInputs(random: Random): string[] {
  const noise = String.fromCharCode(...Array.from({ length: 1000 }, () => Math.floor(random() * 0x10000)));
  return [
    'a'.repeat(HUGE),
    `${'a'.repeat(HUGE)}:1`,
    `${'1'.repeat(HUGE)}`,
    `1:${'9'.repeat(HUGE)}`,
    `[${':'.repeat(HUGE)}]:1`,
    '['.repeat(HUGE),
    ':'.repeat(HUGE),
    `fe80::1%${'e'.repeat(HUGE)}:80`,
    '0'.repeat(HUGE),
    `${'de '.repeat(HUGE / 3)}x`,
    '0x'.repeat(HUGE / 2),
    'A'.repeat(HUGE + 1),
    `${'QQ=='.repeat(HUGE / 4)}`,
    '\\x41'.repeat(HUGE / 4),
    `${'\\n'.repeat(HUGE / 2)}\\`,
    '${'.repeat(HUGE / 2),
    '$${'.repeat(HUGE / 3),
    `${'$'.repeat(HUGE)}{text}`,
    `${'${text}'.repeat(HUGE / 7)}\${`,
    '}'.repeat(HUGE),
    '\ud800'.repeat(HUGE),
    noise.repeat(HUGE / 1000),
  ];
}

/** Runs `parse`, and fails unless it returns or throws a WorkbenchError that points inside the input and reads as one line. */
function returnsOrExplains<T>(input: string, parse: () => T): T | WorkbenchError {
  const started = performance.now();
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof WorkbenchError)) assert.fail(`${JSON.stringify(input.slice(0, 80))} threw ${String(err)}`);
    const where = JSON.stringify(input.slice(0, 80));
    assert.ok(err.offset === undefined || (err.offset >= 0 && err.offset <= input.length), `${where}: offset ${err.offset}`);
    assert.ok(!/[\n\r]/.test(err.text), `${where}: ${err.text}`);
    assert.ok(err.text.length < 400, `${where}: ${err.text.length} characters of message`);
    return err;
  } finally {
    const ms = performance.now() - started;
    assert.ok(ms < SLOW_MS, `${JSON.stringify(input.slice(0, 80))} (${input.length} characters) took ${ms.toFixed(0)} ms`);
  }
}

function fuzz(seed: number, check: (input: string, random: Random) => void): void {
  const random = createRandom(seed);
  for (const input of hugeInputs(random)) check(input, random);
  for (let run = 0; run < RUNS; run++) check(randomString(random), random);
}

function randomBytes(random: Random, max: number): Buffer {
  return Buffer.from(Array.from({ length: Math.floor(random() * max) }, () => Math.floor(random() * 256)));
}

describe('parsers under random and hostile input', () => {
  it('parseEndpoint returns a valid endpoint that formats back to itself, or a WorkbenchError', () => {
    fuzz(1, (input, random) => {
      const options: EndpointOptions = { defaultPort: random() < 0.5 ? 12345 : undefined, allowPortZero: random() < 0.5 };
      const result = returnsOrExplains(input, () => parseEndpoint(input, options));
      if (result instanceof WorkbenchError) return;
      assert.ok(result.host.length > 0 && Number.isInteger(result.port) && result.port >= 0 && result.port <= 65535, input);
      assert.deepEqual(parseEndpoint(formatEndpoint(result), options), result, input);
    });
  });

  it('parsePort returns a port or a WorkbenchError, for text and for numbers', () => {
    fuzz(2, (input, random) => {
      const allowZero = random() < 0.5;
      const result = returnsOrExplains(input, () => parsePort(input, { allowZero }));
      if (typeof result === 'number') assert.ok(Number.isInteger(result) && result >= (allowZero ? 0 : 1) && result <= 65535, input);
      const number = pick(random, [random() * 70000, Math.floor(random() * 70000) - 1, Number.NaN, -0, Number.MAX_SAFE_INTEGER + 2]);
      returnsOrExplains(String(number), () => parsePort(number, { allowZero }));
    });
  });

  for (const [index, encoding] of PAYLOAD_ENCODINGS.entries()) {
    it(`encodePayload(${encoding}) returns bytes or a WorkbenchError`, () => {
      fuzz(10 + index, (input) => {
        const result = returnsOrExplains(input, () => encodePayload(input, encoding));
        if (!(result instanceof WorkbenchError)) assert.ok(Buffer.isBuffer(result));
      });
    });
  }

  for (const encoding of PAYLOAD_ENCODINGS) {
    it(`measurePayload(${encoding}) agrees with encodePayload: the same size, or the same mistake at the same place`, () => {
      fuzz(15, (input) => {
        const encoded = returnsOrExplains(input, () => encodePayload(input, encoding));
        const measured = measurePayload(input, encoding);
        if (encoded instanceof WorkbenchError) {
          assert.ok(typeof measured !== 'number', `${JSON.stringify(input.slice(0, 80))}: measured ${String(measured)} bytes`);
          assert.deepEqual(
            [measured.code, `${measured.message} ${measured.hint}`, measured.offset],
            [encoded.code, encoded.text, encoded.offset],
          );
        } else {
          assert.equal(measured, encoded.length, JSON.stringify(input.slice(0, 80)));
        }
      });
    });
  }

  it('compileReplyPattern builds a pattern that tests any text, or explains in one short line', () => {
    const pieces = [
      '(',
      ')',
      '(?:',
      '(?<=',
      '(?=',
      '(?<n>',
      '\\1',
      '\\k<n>',
      '\\u',
      '\\x',
      '\\p{L}',
      '\\',
      '[',
      ']',
      '^',
      '$',
      '|',
      '*',
      '+',
      '?',
      '{',
      '}',
      '{2}',
      '{1000}',
      ',',
      'a',
      '.',
      '\\d',
      '\\b',
      '😀',
      '\ud800',
    ];
    const random = createRandom(50);
    for (let run = 0; run < RUNS / 4; run++) {
      const source = Array.from({ length: Math.floor(random() * 12) }, () => pick(random, pieces)).join('');
      const flags = Array.from({ length: Math.floor(random() * 3) }, () =>
        pick(random, ['i', 'm', 's', 'u', 'g', 'y', 'd', 'v', 'q']),
      ).join('');
      const compiled = compileReplyPattern(source, flags);
      if ('message' in compiled) {
        assert.ok(!/[\n\r]/.test(compiled.message) && compiled.message.length < 400, compiled.message);
      } else {
        assert.equal(typeof compiled.pattern.test(randomString(random)), 'boolean', `/${source}/${flags}`);
      }
    }
  });

  it('validateTemplate and renderReplyTemplate agree, and return bytes or a WorkbenchError', () => {
    const context = { payload: Buffer.from('hi'), peer: { address: '::1', port: 9, family: 'IPv6' as const }, seq: 1 };
    fuzz(20, (input) => {
      const valid = returnsOrExplains(input, () => validateTemplate(input));
      const rendered = returnsOrExplains(input, () => renderReplyTemplate(input, context));
      if (valid instanceof WorkbenchError) assert.ok(rendered instanceof WorkbenchError && rendered.offset === valid.offset, input);
      else assert.ok(Buffer.isBuffer(rendered), input);
    });
  });
});

describe('encodings read back what Node writes, with any separators', () => {
  it('hex, base64 and escapes round-trip random bytes', () => {
    const random = createRandom(30);
    for (let run = 0; run < RUNS / 4; run++) {
      const bytes = randomBytes(random, 64);
      const hex = Array.from(bytes, (byte) => pick(random, ['', ' ', ':', ', ', '-', ' 0x']) + byte.toString(16).padStart(2, '0'));
      assert.deepEqual(encodePayload(hex.join(''), 'hex'), bytes, hex.join(''));
      const base64 = bytes.toString(random() < 0.5 ? 'base64' : 'base64url').replace(/=+$/, (padding) => (random() < 0.5 ? padding : ''));
      assert.deepEqual(
        encodePayload(
          base64.replace(/.{1,8}/g, (chunk) => `${chunk}\n `),
          'base64',
        ),
        bytes,
        base64,
      );
      const escaped = Array.from(bytes, (byte) =>
        byte > 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`,
      );
      assert.deepEqual(encodePayload(escaped.join(''), 'escaped'), bytes, escaped.join(''));
    }
  });
});

describe('log views of random bytes', () => {
  it('previewText is one quoted line and hexDump is 16 bytes a line, for any bytes', () => {
    const random = createRandom(40);
    for (let run = 0; run < RUNS / 4; run++) {
      const bytes = randomBytes(random, 80);
      const maxBytes = Math.floor(random() * 90);
      const preview = previewText(bytes, maxBytes);
      assert.ok(preview.startsWith('"') && !/\p{Cc}|\p{Zl}|\p{Zp}|\p{Cs}/u.test(preview), preview);
      const lines = hexDump(bytes, maxBytes);
      const shown = Math.min(bytes.length, maxBytes);
      assert.equal(lines.length, Math.ceil(shown / 16) + (shown < bytes.length ? 1 : 0));
    }
  });
});
