import * as assert from 'node:assert/strict';
import { judgeReply, parseExpectation, type Expectation } from '../../src/core/requests/expectation';

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
    assert.match(
      mistake('contain "x"').message,
      /Unknown @expect "contain": write contains "…", equals "…", matches \/…\/flags, hex "…", size N or none/,
    );
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

  it("reports a regular expression that does not compile, with the engine's reason", () => {
    const bad = mistake('matches /(a/');
    assert.match(bad.message, /Bad regular expression: missing closing \): `\(a` \(RE2 syntax\)\./);
    assert.deepEqual({ start: bad.start, end: bad.end }, { start: 8, end: 12 });
    assert.match(mistake('matches /a/q').message, /Bad regular expression: .*flags/i);
    assert.match(mistake('matches //').message, /Empty regular expression/);
  });

  it('escapes bidirectional and control characters of the expectation in its messages', () => {
    const badPattern = mistake('matches /(\u202e/').message;
    assert.match(badPattern, /^Bad regular expression: /);
    assert.ok(badPattern.includes(String.raw`\u202e`) && !badPattern.includes('\u202e'), badPattern);
    assert.match(mistake('\u2066bogus "x"').message, /^Unknown @expect "\\u2066bogus \\"x\\"": write/);
  });

  it('refuses what RE2 cannot run, saying what to write instead', () => {
    const refusals: [string, RegExp][] = [
      ['matches /(a)\\1/', /RE2 has no backreferences \(\\1, \\k<name>\): write the repeated text out/],
      ['matches /(?<n>a)\\k<n>/', /RE2 has no backreferences/],
      ['matches /(?<=a)b/', /RE2 has no lookbehind \(\(\?<=…\), \(\?<!…\)\): match the text before as part of the pattern/],
      ['matches /(?<!a)b/', /RE2 has no lookbehind/],
      ['matches /a(?=b)/', /RE2 has no lookahead/],
      ['matches /a(?!b)/', /RE2 has no lookahead/],
      ['matches /\\u0041/', /Write \\x\{263A\} \(or \\x41\)/],
      ['matches /\\cA/', /Write \\x01 for a control character/],
    ];
    for (const [text, message] of refusals) {
      const refused = mistake(text);
      assert.match(refused.message, message, text);
      assert.equal(refused.start, 8, text);
    }
  });

  it('keeps the message short when RE2 quotes a long pattern', () => {
    const refused = mistake(`matches /(${'a'.repeat(10_000)}/`);
    assert.ok(refused.message.length < 200, refused.message);
  });

  it('refuses a pattern too large to check in a few milliseconds', () => {
    assert.match(mistake('matches /a{1000}/').message, /Regular expression too large: it compiles to \d+ instructions, at most 500/);
    assert.match(mistake('matches /(a|aa){900}$/').message, /too large/);
    assert.match(mistake('matches /(?:(a{100}){100}){100}/').message, /invalid repeat count/);
  });

  it('accepts the JavaScript flags i, m, s, u, g and y, and refuses others by name', () => {
    for (const flags of ['', 'i', 'm', 's', 'u', 'g', 'y', 'gimsuy']) assert.equal(parsed(`matches /a/${flags}`).kind, 'matches', flags);
    assert.equal(mistake('matches /a/d').message, 'Bad regular expression: unknown flag "d"; the flags are i, m, s, u, g and y.');
    assert.equal(mistake('matches /a/ii').message, 'Bad regular expression: the flag "i" is written twice.');
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

describe('judgeReply', () => {
  const reply = Buffer.from('Data received: ping 1');

  it('passes any reply without an expectation, and fails a timeout', () => {
    assert.deepEqual(judgeReply(undefined, reply), { passed: true, detail: 'reply: 21 B: "Data received: ping 1"' });
    assert.deepEqual(judgeReply(undefined, undefined), { passed: false, detail: 'no reply' });
  });

  it('checks contains, equals, matches, hex and size against the bytes', () => {
    assert.equal(judgeReply(parsed('contains "received"'), reply).passed, true);
    assert.equal(judgeReply(parsed('contains "pong"'), reply).passed, false);
    assert.equal(judgeReply(parsed('equals "Data received: ping 1"'), reply).passed, true);
    assert.equal(judgeReply(parsed('equals "Data received"'), reply).passed, false);
    assert.equal(judgeReply(parsed('matches /ping \\d+$/'), reply).passed, true);
    assert.equal(judgeReply(parsed('matches /^PING/i'), reply).passed, false);
    assert.equal(judgeReply(parsed('hex "01 02"'), Buffer.from([1, 2])).passed, true);
    assert.equal(judgeReply(parsed('hex "01 02"'), Buffer.from([1, 2, 3])).passed, false);
    assert.equal(judgeReply(parsed('size 21'), reply).passed, true);
    assert.equal(judgeReply(parsed('size 20'), reply).passed, false);
    assert.equal(judgeReply(parsed('equals "\\xff"'), Buffer.from([0xff])).passed, true, 'bytes, not text');
  });

  it('checks a nested quantifier in linear time: no backtracking over the largest datagram', () => {
    // A backtracking engine tries 2^27 ways here (over 15 s, past the test's timeout); RE2 reads the reply once.
    const hostile = parsed('matches /^(a+)+$/');
    assert.equal(judgeReply(hostile, Buffer.from(`${'a'.repeat(27)}!`)).passed, false);
    assert.equal(judgeReply(hostile, Buffer.from('a'.repeat(65_507))).passed, true);
    assert.equal(judgeReply(parsed('matches /(x+x+)+y/'), Buffer.from('x'.repeat(28))).passed, false);
  });

  it('maps the flags: i ignores case, m makes ^ and $ match at lines, s lets . match a newline, y anchors at the start', () => {
    const check = (expectation: string, text: string): boolean => judgeReply(parsed(expectation), Buffer.from(text)).passed;
    assert.equal(check('matches /^PONG/', 'pong'), false);
    assert.equal(check('matches /^PONG/i', 'pong'), true);
    assert.equal(check('matches /^two$/', 'one\ntwo\nthree'), false);
    assert.equal(check('matches /^two$/m', 'one\ntwo\nthree'), true);
    assert.equal(check('matches /one.two/', 'one\ntwo'), false);
    assert.equal(check('matches /one.two/s', 'one\ntwo'), true);
    assert.equal(check('matches /two/y', 'one two'), false);
    assert.equal(check('matches /one/y', 'one two'), true);
    assert.equal(check('matches /^two/my', 'one\ntwo'), false, "y anchors at the reply's start even with m");
    assert.equal(check('matches /^.$/u', '😀'), true, 'a character outside the BMP is one character');
    assert.equal(check('matches /ping|pong/g', 'a pong'), true);
  });

  it('gives a /g regular expression the same answer every time', () => {
    const expectation = parsed('matches /ping/g');
    assert.equal(judgeReply(expectation, reply).passed, true);
    assert.equal(judgeReply(expectation, reply).passed, true);
  });

  it('says what was expected and what came, escaped: quotes, backslashes and bidirectional characters', () => {
    assert.equal(
      judgeReply(parsed('contains "a\\"b\u202e"'), Buffer.from('a\\nb\u2066')).detail,
      String.raw`expected a reply that contains "a\"b\u202e", got 7 B: "a\\nb\u2066"`,
    );
    assert.equal(
      judgeReply(parsed('matches /^\\d\u200f/'), Buffer.from('x')).detail,
      String.raw`expected a reply that matches /^\d\u200f/, got 1 B: "x"`,
    );
  });

  it('says what was expected and what came', () => {
    assert.deepEqual(judgeReply(parsed('contains "pong"'), Buffer.from('ping')), {
      passed: false,
      detail: 'expected a reply that contains "pong", got 4 B: "ping"',
    });
    assert.deepEqual(judgeReply(parsed('size 3'), undefined), { passed: false, detail: 'no reply (expected one that is 3 bytes)' });
    assert.deepEqual(judgeReply(parsed('matches /x/'), Buffer.from('x')), { passed: true, detail: 'reply matches /x/' });
  });

  it('passes "none" on silence and fails it on a reply', () => {
    assert.deepEqual(judgeReply(parsed('none'), undefined), { passed: true, detail: 'no reply, as expected' });
    assert.deepEqual(judgeReply(parsed('none'), Buffer.from('hi')), { passed: false, detail: 'expected no reply, got 2 B: "hi"' });
  });
});
