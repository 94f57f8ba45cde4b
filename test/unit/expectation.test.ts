import * as assert from 'node:assert/strict';
import { checkReply, parseExpectation, type Expectation } from '../../src/core/expectation';

function parsed(text: string): Expectation {
  const result = parseExpectation(text);
  assert.ok('expectation' in result, `expected ${text} to parse, got ${'message' in result ? result.message : ''}`);
  return result.expectation;
}

function mistake(text: string): { message: string; start: number; end: number } {
  const result = parseExpectation(text);
  assert.ok('message' in result, `expected ${text} to be refused`);
  return result;
}

describe('parseExpectation', () => {
  it('reads every form, and where it stopped', () => {
    assert.deepEqual(parseExpectation('contains "Data received" # why'), {
      expectation: { kind: 'contains', text: 'Data received', bytes: Buffer.from('Data received') },
      end: 24,
    });
    assert.deepEqual(parsed('equals "a\\"b\\n"'), { kind: 'equals', text: 'a\\"b\\n', bytes: Buffer.from('a"b\n') });
    assert.deepEqual(parsed('hex "de ad:be,ef"'), { kind: 'hex', bytes: Buffer.from([0xde, 0xad, 0xbe, 0xef]) });
    assert.deepEqual(parsed('matches /^pong \\d+$/i'), { kind: 'matches', source: '^pong \\d+$', flags: 'i' });
    assert.deepEqual(parsed('size 12'), { kind: 'size', size: 12 });
    assert.deepEqual(parsed('none'), { kind: 'none' });
    assert.deepEqual(parsed('equals ""'), { kind: 'equals', text: '', bytes: Buffer.alloc(0) });
  });

  it('starts reading at the offset it is given', () => {
    assert.deepEqual(parseExpectation('   size 3', 3), { expectation: { kind: 'size', size: 3 }, end: 9 });
  });

  it('keeps "/" inside a character class, and an escaped "/", in a regular expression', () => {
    assert.deepEqual(parsed('matches /a[/]b\\/c/'), { kind: 'matches', source: 'a[/]b\\/c', flags: '' });
  });

  it('says which forms exist for an unknown or missing operator', () => {
    assert.match(mistake('contain "x"').message, /Unknown @expect "contain": write contains "…", equals "…", matches \/…\/flags, hex "…", size N or none/);
    assert.match(mistake('').message, /@expect needs one of/);
    assert.match(mistake('"x"').message, /Unknown @expect/);
  });

  it('marks a missing or unterminated argument where it is', () => {
    assert.deepEqual(mistake('contains x'), { message: '@expect contains needs a "quoted string".', start: 0, end: 9 });
    assert.deepEqual(mistake('contains'), { message: '@expect contains needs a "quoted string".', start: 0, end: 8 });
    const unterminated = mistake('equals "abc');
    assert.deepEqual({ start: unterminated.start, end: unterminated.end }, { start: 7, end: 11 });
    assert.match(unterminated.message, /Unterminated string/);
    assert.match(mistake('matches /abc').message, /Unterminated regular expression/);
    assert.match(mistake('matches abc').message, /needs a \/regular expression\//);
    assert.match(mistake('size').message, /needs a number of bytes/);
    assert.match(mistake('size -1').message, /needs a number of bytes/);
  });

  it('reports a regular expression that does not compile, with the engine\'s reason', () => {
    const bad = mistake('matches /(a/');
    assert.match(bad.message, /Bad regular expression: .*Unterminated group/);
    assert.deepEqual({ start: bad.start, end: bad.end }, { start: 8, end: 12 });
    assert.match(mistake('matches /a/q').message, /Bad regular expression: .*flags/i);
    assert.match(mistake('matches //').message, /Empty regular expression/);
  });

  it('escapes bidirectional and control characters of the expectation in its messages', () => {
    assert.equal(mistake('matches /(\u202e/').message, String.raw`Bad regular expression: Invalid regular expression: /(\u202e/: Unterminated group.`);
    assert.match(mistake('\u2066bogus "x"').message, /^Unknown @expect "\\u2066bogus \\"x\\"": write/);
  });

  it('reports bad escapes and bad hex at the character', () => {
    const escape = mistake('contains "ab\\q"');
    assert.equal(escape.start, 12);
    assert.match(escape.message, /Malformed escape/);
    const hex = mistake('hex "de a"');
    assert.equal(hex.start, 8);
    assert.match(hex.message, /odd number of digits/);
    assert.match(mistake('hex "zz"').message, /not a hex digit/);
  });

  it('refuses a size no datagram can have', () => {
    assert.match(mistake('size 70000').message, /larger than a datagram can be/);
  });
});

describe('checkReply', () => {
  const reply = Buffer.from('Data received: ping 1');

  it('passes any reply without an expectation, and fails a timeout', () => {
    assert.deepEqual(checkReply(undefined, reply), { passed: true, detail: 'reply: 21 B: "Data received: ping 1"' });
    assert.deepEqual(checkReply(undefined, undefined), { passed: false, detail: 'no reply' });
  });

  it('checks contains, equals, matches, hex and size against the bytes', () => {
    assert.equal(checkReply(parsed('contains "received"'), reply).passed, true);
    assert.equal(checkReply(parsed('contains "pong"'), reply).passed, false);
    assert.equal(checkReply(parsed('equals "Data received: ping 1"'), reply).passed, true);
    assert.equal(checkReply(parsed('equals "Data received"'), reply).passed, false);
    assert.equal(checkReply(parsed('matches /ping \\d+$/'), reply).passed, true);
    assert.equal(checkReply(parsed('matches /^PING/i'), reply).passed, false);
    assert.equal(checkReply(parsed('hex "01 02"'), Buffer.from([1, 2])).passed, true);
    assert.equal(checkReply(parsed('hex "01 02"'), Buffer.from([1, 2, 3])).passed, false);
    assert.equal(checkReply(parsed('size 21'), reply).passed, true);
    assert.equal(checkReply(parsed('size 20'), reply).passed, false);
    assert.equal(checkReply(parsed('equals "\\xff"'), Buffer.from([0xff])).passed, true, 'bytes, not text');
  });

  it('gives a /g regular expression the same answer every time', () => {
    const expectation = parsed('matches /ping/g');
    assert.equal(checkReply(expectation, reply).passed, true);
    assert.equal(checkReply(expectation, reply).passed, true);
  });

  it('says what was expected and what came, escaped: quotes, backslashes and bidirectional characters', () => {
    assert.equal(
      checkReply(parsed('contains "a\\"b\u202e"'), Buffer.from('a\\nb\u2066')).detail,
      String.raw`expected a reply that contains "a\"b\u202e", got 7 B: "a\\nb\u2066"`,
    );
    assert.equal(checkReply(parsed('matches /^\\d\u200f/'), Buffer.from('x')).detail, String.raw`expected a reply that matches /^\d\u200f/, got 1 B: "x"`);
  });

  it('says what was expected and what came', () => {
    assert.deepEqual(checkReply(parsed('contains "pong"'), Buffer.from('ping')), {
      passed: false,
      detail: 'expected a reply that contains "pong", got 4 B: "ping"',
    });
    assert.deepEqual(checkReply(parsed('size 3'), undefined), { passed: false, detail: 'no reply (expected one that is 3 bytes)' });
    assert.deepEqual(checkReply(parsed('matches /x/'), Buffer.from('x')), { passed: true, detail: 'reply matches /x/' });
  });

  it('passes "none" on silence and fails it on a reply', () => {
    assert.deepEqual(checkReply(parsed('none'), undefined), { passed: true, detail: 'no reply, as expected' });
    assert.deepEqual(checkReply(parsed('none'), Buffer.from('hi')), { passed: false, detail: 'expected no reply, got 2 B: "hi"' });
  });
});
