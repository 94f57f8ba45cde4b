import * as assert from 'node:assert/strict';
import { expandFileVariables, renderRequestTemplate, scanTemplate, type BuiltinValues } from '../../src/core/requests/requestVariables';

const defined =
  (...names: string[]) =>
  (name: string): boolean =>
    names.includes(name);
const variables = (entries: Record<string, string>): Map<string, { value: string }> =>
  new Map(Object.entries(entries).map(([name, value]) => [name, { value }]));
const fixed: BuiltinValues = { seq: 7, now: () => 1_700_000_000_000, uuid: () => 'u-u-i-d', randomInt: (min) => min };

describe('scanTemplate', () => {
  it('splits text and references, with their offsets', () => {
    const { parts, problems, hasReferences } = scanTemplate('ping {{ host }} #{{$seq}}', defined('host'));
    assert.deepEqual(problems, []);
    assert.ok(hasReferences);
    assert.deepEqual(parts, [
      { kind: 'text', text: 'ping ', start: 0 },
      { kind: 'variable', name: 'host', start: 5, end: 15 },
      { kind: 'text', text: ' #', start: 15 },
      { kind: 'seq', start: 17, end: 25 },
    ]);
  });

  it('reads every built-in', () => {
    const kinds = scanTemplate('{{$seq}}{{$timestamp}}{{$uuid}}{{$randomInt -5 10}}', defined()).parts.map((part) => part.kind);
    assert.deepEqual(kinds, ['seq', 'timestamp', 'uuid', 'randomInt']);
    assert.deepEqual(scanTemplate('{{$randomInt -5 10}}', defined()).parts[0], { kind: 'randomInt', min: -5, max: 10, start: 0, end: 20 });
  });

  it('reports an unknown variable over the whole reference, saying how to define it', () => {
    const { problems } = scanTemplate('a {{nope}} b', defined('host'));
    assert.equal(problems.length, 1);
    assert.deepEqual({ start: problems[0].start, end: problems[0].end }, { start: 2, end: 10 });
    assert.match(problems[0].message, /Unknown variable \{\{nope\}\}.*@nope = value/);
  });

  it('reports unknown built-ins, arguments where none belong, and bad $randomInt bounds', () => {
    const messages = (text: string): string[] => scanTemplate(text, defined()).problems.map((problem) => problem.message);
    assert.match(messages('{{$now}}')[0], /Unknown built-in \{\{\$now\}\}.*\$seq/);
    assert.match(messages('{{$seq 2}}')[0], /takes no arguments/);
    for (const bad of [
      '{{$randomInt}}',
      '{{$randomInt 1}}',
      '{{$randomInt 5 5}}',
      '{{$randomInt a b}}',
      '{{$randomInt 1 2 3}}',
      '{{$randomInt 0 99999999999999999}}',
    ]) {
      assert.match(messages(bad)[0] ?? '', /min < max/, bad);
    }
    assert.match(messages('{{}}')[0], /not a variable reference/);
    assert.match(messages('{{two words}}')[0], /not a variable reference/);
  });

  it('reports an unterminated {{ once per line and keeps the rest of the line as text', () => {
    const { parts, problems } = scanTemplate('a {{b {{c\nd {{$seq}}', defined());
    assert.deepEqual(
      problems.map(({ start, end }) => ({ start, end })),
      [{ start: 2, end: 9 }],
    );
    assert.match(problems[0].message, /Unterminated \{\{/);
    assert.deepEqual(parts, [
      { kind: 'text', text: 'a {{b {{c\nd ', start: 0 },
      { kind: 'seq', start: 12, end: 20 },
    ]);
  });

  it('does not let a reference reach past the end of its line', () => {
    const { problems, hasReferences } = scanTemplate('{{a\n}}', defined('a'));
    assert.equal(problems.length, 1);
    assert.equal(hasReferences, false);
  });

  it('is linear on a line of a hundred thousand "{{" and one "}}" at the end', () => {
    const text = '{{'.repeat(100_000) + '}}';
    const started = performance.now();
    const { problems } = scanTemplate(text, defined());
    assert.equal(problems.length, 1);
    assert.ok(performance.now() - started < 200);
  });

  it('is linear on many lines each with an unterminated "{{"', () => {
    const text = 'x {{ y\n'.repeat(50_000) + '}}';
    const started = performance.now();
    const { problems } = scanTemplate(text, defined());
    assert.equal(problems.length, 50_000);
    assert.ok(performance.now() - started < 500);
  });
});

describe('renderRequestTemplate', () => {
  it('fills in variables and built-ins', () => {
    const { parts } = scanTemplate('{{greeting}} #{{$seq}} at {{$timestamp}} id {{$uuid}} n={{$randomInt 3 9}}', defined('greeting'));
    const text = renderRequestTemplate(parts, variables({ greeting: 'hi' }), fixed);
    assert.equal(text, 'hi #7 at 1700000000000 id u-u-i-d n=3');
  });

  it('draws $randomInt from min up to, not including, max, and a fresh $uuid each time', () => {
    const { parts } = scanTemplate('{{$randomInt 1 3}}', defined());
    const seen = new Set(Array.from({ length: 200 }, () => renderRequestTemplate(parts, variables({}), { seq: 1 })));
    assert.deepEqual([...seen].sort(), ['1', '2']);
    const uuid = scanTemplate('{{$uuid}}', defined()).parts;
    const first = renderRequestTemplate(uuid, variables({}), { seq: 1 });
    assert.match(first, /^[0-9a-f-]{36}$/);
    assert.notEqual(renderRequestTemplate(uuid, variables({}), { seq: 1 }), first);
  });

  it('keeps text without references as it is', () => {
    const { parts, hasReferences } = scanTemplate('plain \\n text', defined());
    assert.equal(hasReferences, false);
    assert.equal(renderRequestTemplate(parts, variables({}), fixed), 'plain \\n text');
  });
});

describe('expandFileVariables', () => {
  const expand = (source: string, values: Record<string, string>) =>
    expandFileVariables(source, scanTemplate(source, defined(...Object.keys(values))).parts, variables(values));

  it('leaves text without variables, and its positions, alone', () => {
    const expanded = expand(' 127.0.0.1:9', {});
    assert.equal(expanded.text, ' 127.0.0.1:9');
    assert.deepEqual(expanded.toSource(3, 5), { start: 3, end: 5 });
  });

  it('maps positions in literal text back exactly, and positions in a value to the whole reference', () => {
    //            0123456789012345678
    const source = ' {{host}}:{{port}} x';
    const expanded = expand(source, { host: '127.0.0.1', port: '12345' });
    assert.equal(expanded.text, ' 127.0.0.1:12345 x');
    assert.deepEqual(expanded.toSource(1, 2), { start: 1, end: 9 }, 'inside host');
    assert.deepEqual(expanded.toSource(10, 11), { start: 9, end: 10 }, 'the colon');
    assert.deepEqual(expanded.toSource(11, 16), { start: 10, end: 18 }, 'the port');
    assert.deepEqual(expanded.toSource(17, 18), { start: 19, end: 20 }, 'text after');
    assert.deepEqual(expanded.toSource(1, 18), { start: 1, end: 20 }, 'all of it');
  });

  it('points at the end of the source for an offset at the end of the text', () => {
    const expanded = expand(' {{a}}', { a: 'x' });
    assert.deepEqual(expanded.toSource(2, 2), { start: 6, end: 6 });
  });
});
