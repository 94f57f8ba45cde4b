import * as assert from 'node:assert/strict';
import { createRandom } from '../../src/core/random';
import { blockAt, errorsIn, parseRequestFile, type Problem, type RequestFile } from '../../src/core/requests/requestFile';
import { TextLines } from '../../src/core/textLines';

const file = (...lines: string[]): RequestFile => parseRequestFile(lines.join('\n'));

/** The one problem of a file, as line:column-endColumn and message. */
function onlyProblem(parsed: RequestFile): Problem {
  assert.equal(parsed.problems.length, 1, `expected one problem, got ${JSON.stringify(parsed.problems, null, 2)}`);
  return parsed.problems[0];
}

const at = (problem: Problem): string => `${problem.line}:${problem.column}-${problem.endColumn}`;

describe('parseRequestFile', () => {
  describe('the format', () => {
    it('reads the example block of the issue', () => {
      const parsed = file(
        '### heartbeat',
        '@target 127.0.0.1:12345',
        '@encoding utf8          # utf8 | hex | base64 (escapes \\n \\t \\xHH work in utf8)',
        '@timeout 500',
        '@retries 2',
        '@expect contains "Data received"     # or: equals "…"',
        'ping {{$seq}} at {{$timestamp}}',
      );
      assert.deepEqual(parsed.problems, []);
      assert.equal(parsed.blocks.length, 1);
      const [block] = parsed.blocks;
      assert.equal(block.name, 'heartbeat');
      assert.deepEqual(block.range, { start: 0, end: 6 });
      assert.deepEqual(block.target, { value: { host: '127.0.0.1', port: 12345, family: 4 }, line: 1 });
      assert.deepEqual(block.encoding, { value: 'escaped', line: 2 });
      assert.deepEqual(block.timeoutMs, { value: 500, line: 3 });
      assert.deepEqual(block.retries, { value: 2, line: 4 });
      assert.deepEqual(block.expect, { value: { kind: 'contains', text: 'Data received', bytes: Buffer.from('Data received') }, line: 5 });
      assert.equal(block.payload, 'ping {{$seq}} at {{$timestamp}}');
      assert.equal(block.payloadLine, 6);
    });

    it('reads file variables at the top, and blocks separated by ### lines', () => {
      const parsed = file(
        '@server = 127.0.0.1:9000  # the echo server',
        '@greeting = hello world',
        '',
        '### first',
        '@target {{server}}',
        'say {{greeting}}',
        '',
        '###',
        'second',
        'line two',
        '',
        '',
      );
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(
        [...parsed.variables],
        [
          ['server', { value: '127.0.0.1:9000', line: 0 }],
          ['greeting', { value: 'hello world', line: 1 }],
        ],
      );
      assert.deepEqual(
        parsed.blocks.map((block) => [block.name, block.range, block.payload]),
        [
          ['first', { start: 3, end: 6 }, 'say {{greeting}}'],
          ['Block 2', { start: 7, end: 11 }, 'second\nline two'],
        ],
      );
      assert.deepEqual(parsed.blocks[0].target?.value, { host: '127.0.0.1', port: 9000, family: 4 });
    });

    it('reads a file without ### as one block', () => {
      const parsed = file('@v = 1', '', '@timeout 2s', 'ping {{v}}');
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(
        parsed.blocks.map((block) => [block.name, block.range, block.timeoutMs?.value]),
        [['Block 1', { start: 2, end: 3 }, 2000]],
      );
    });

    it('has no blocks in a file of variables and comments', () => {
      const parsed = file('# notes', '@a = 1', '// more notes');
      assert.deepEqual(parsed.blocks, []);
      assert.deepEqual(parsed.problems, []);
    });

    it('leaves comment lines out of the payload, and blank lines around it', () => {
      const parsed = file('### b', '# about this block', '@timeout 100', '', '// why', 'one', '# not sent', '', 'three', '', '# trailing');
      assert.deepEqual(parsed.problems, []);
      assert.equal(parsed.blocks[0].payload, 'one\n\nthree');
      assert.equal(parsed.blocks[0].payloadLine, 5);
    });

    it('treats a line starting with @ after the payload began as payload', () => {
      const parsed = file('### b', 'first', '@everyone hi');
      assert.deepEqual(parsed.problems, []);
      assert.equal(parsed.blocks[0].payload, 'first\n@everyone hi');
    });

    it('reads CRLF and CR line ends', () => {
      const parsed = parseRequestFile('### a\r\n@timeout 5\r\nping\r\n### b\rpong\r');
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(
        parsed.blocks.map((block) => [block.payload, block.range]),
        [
          ['ping', { start: 0, end: 2 }],
          ['pong', { start: 3, end: 5 }],
        ],
      );
    });

    it('reads every header form', () => {
      const parsed = file(
        '### all',
        '@target udp://[::1]:9000/',
        '@encoding hex',
        '@timeout 1.5s',
        '@repeat 1000',
        '@rate 200/s',
        'de ad be ef',
        '### more',
        '@encoding base64',
        '@timeout 250ms',
        '@retries 0',
        '@expect matches /^pong \\d+$/i',
        'aGVs',
        'bG8=',
      );
      assert.deepEqual(parsed.problems, []);
      const [all, more] = parsed.blocks;
      assert.deepEqual(all.target?.value, { host: '::1', port: 9000, family: 6 });
      assert.equal(all.encoding?.value, 'hex');
      assert.equal(all.timeoutMs?.value, 1500);
      assert.equal(all.repeat?.value, 1000);
      assert.equal(all.ratePerSecond?.value, 200);
      assert.equal(more.encoding?.value, 'base64');
      assert.equal(more.timeoutMs?.value, 250);
      assert.equal(more.retries?.value, 0);
      assert.deepEqual(more.expect?.value, { kind: 'matches', source: '^pong \\d+$', flags: 'i' });
    });

    it('finds the block at a line, and the errors inside a block', () => {
      const parsed = file('@a = 1', '### one', 'x', '### two', '@nope 1', 'y');
      assert.equal(blockAt(parsed, 0), undefined);
      assert.equal(blockAt(parsed, 1)?.name, 'one');
      assert.equal(blockAt(parsed, 2)?.name, 'one');
      assert.equal(blockAt(parsed, 5)?.name, 'two');
      assert.deepEqual(errorsIn(parsed, parsed.blocks[0]), []);
      assert.equal(errorsIn(parsed, parsed.blocks[1]).length, 1);
      const many = file(
        '@v = {{x}}',
        ...Array.from({ length: 50 }, (_, i) => `### b${i}\n${i % 2 ? '@repeat 2\n' : ''}@rate 1/s\n${i % 3 === 0 ? '\\q \\q' : 'ok'}\n\n`),
      );
      for (const block of many.blocks) {
        const inside = many.problems.filter((p) => p.severity === 'error' && block.range.start <= p.line && p.line <= block.range.end);
        assert.deepEqual(errorsIn(many, block), inside, block.name);
      }
    });
  });

  describe('problems, with their positions', () => {
    it('marks an unknown header and lists the known ones', () => {
      const problem = onlyProblem(file('### b', '  @tiemout 5', 'x'));
      assert.equal(at(problem), '1:2-10');
      assert.equal(problem.severity, 'error');
      assert.match(problem.message, /Unknown header @tiemout: use @target, @encoding, @timeout, @retries, @expect, @repeat, @rate/);
    });

    it('marks a bad target at the character parseEndpoint points to', () => {
      const problem = onlyProblem(file('### b', '@target 127.0.0.1:12a45', 'x'));
      assert.equal(at(problem), '1:20-23');
      assert.match(problem.message, /"a" at column 13 is not a digit/);
      assert.equal(at(onlyProblem(file('@target 127.0.0.1', 'x'))), '0:16-17');
    });

    it('says what a header accepts', () => {
      const timeout = onlyProblem(file('@timeout abc', 'x'));
      assert.equal(at(timeout), '0:9-12');
      assert.match(timeout.message, /Bad @timeout "abc": write milliseconds like 500 or 500ms, or seconds like 2s/);
      const rate = onlyProblem(file('@repeat 10', '@rate 200/min', 'x'));
      assert.equal(at(rate), '1:6-13');
      assert.match(rate.message, /Bad @rate "200\/min": write datagrams per second like 200\/s/);
      assert.match(onlyProblem(file('@encoding latin1', 'x')).message, /Unknown @encoding "latin1": write utf8 .*, hex or base64/);
      assert.match(onlyProblem(file('@retries 21', 'x')).message, /Bad @retries "21": .*from 0 to 20/);
      assert.match(onlyProblem(file('@repeat 0', 'x')).message, /Bad @repeat "0": .*from 1 to 1,000,000/);
      assert.match(onlyProblem(file('@timeout 0', 'x')).message, /Bad @timeout/);
      assert.match(onlyProblem(file('@timeout', 'x')).message, /@timeout needs a value: @timeout 500 \(ms\) or @timeout 2s/);
      assert.match(onlyProblem(file('@timeout   # soon', 'x')).message, /@timeout needs a value/);
    });

    it('marks text after a value that is not a comment', () => {
      const problem = onlyProblem(file('@timeout 500 ms', 'x'));
      assert.equal(at(problem), '0:13-15');
      assert.match(problem.message, /Unexpected text after the value of @timeout/);
      assert.equal(at(onlyProblem(file('@expect size 3 bytes', 'x'))), '0:15-20');
    });

    it('marks a bad @expect and a bad regular expression', () => {
      const operator = onlyProblem(file('@expect contain "x"', 'x'));
      assert.equal(at(operator), '0:8-15');
      assert.match(operator.message, /Unknown @expect "contain"/);
      const regex = onlyProblem(file('@expect matches /(a/', 'x'));
      assert.equal(at(regex), '0:16-20');
      assert.match(regex.message, /Bad regular expression/);
      const unterminated = onlyProblem(file('@expect equals "abc', 'x'));
      assert.equal(at(unterminated), '0:15-19');
    });

    it('marks unknown variables and an unterminated {{ in the payload and in headers', () => {
      const parsed = file('### b', '@target {{srv}}', 'a {{missing}} b', 'c {{oops');
      assert.deepEqual(parsed.problems.map(at), ['1:8-15', '2:2-13', '3:2-8']);
      assert.match(parsed.problems[0].message, /Unknown variable \{\{srv\}\}/);
      assert.match(parsed.problems[2].message, /Unterminated \{\{/);
    });

    it('maps a mistake inside a filled-in variable to the reference', () => {
      const parsed = file('@host = 127.0.0.1', '@port = 99999', '@target {{host}}:{{port}}', 'x');
      const problem = onlyProblem(parsed);
      assert.equal(at(problem), '2:17-25');
      assert.match(problem.message, /Port "?99999"? is out of range/);
    });

    it('refuses built-ins in headers: they change with every datagram', () => {
      const problem = onlyProblem(file('@target 127.0.0.1:{{$randomInt 1 9}}', 'x'));
      assert.equal(at(problem), '0:18-36');
      assert.match(problem.message, /only works in the payload/);
    });

    it('marks a header set twice, a variable defined twice, and a variable named like a header', () => {
      const parsed = file('@a = 1', '@a = 2', '@target = 127.0.0.1:1', '### b', '@timeout 5', '@timeout 6', 'x');
      assert.deepEqual(
        parsed.problems.map((problem) => [at(problem), problem.message]),
        [
          ['1:0-2', '@a is already defined on line 1.'],
          ['2:0-7', '@target is a header, not a variable: write @target value, without "=".'],
          ['5:0-8', '@timeout is already set on line 5 of this block.'],
        ],
      );
      assert.equal(parsed.variables.get('a')?.value, '1');
    });

    it('marks "@" without a name', () => {
      const problem = onlyProblem(file('### b', '@ 5', 'x'));
      assert.equal(at(problem), '1:0-1');
      assert.match(problem.message, /Write a header .* or a variable \(@name = value\) after @/);
    });

    it("warns that a variable's value is not filled in", () => {
      const problem = onlyProblem(file('@a = x{{b}}'));
      assert.equal(problem.severity, 'warning');
      assert.equal(at(problem), '0:6-8');
    });

    it('marks a block without a payload on its ### line', () => {
      const parsed = file('### empty', '@timeout 5', '# only a comment', '', '### full', 'x');
      const problem = onlyProblem(parsed);
      assert.equal(at(problem), '0:0-9');
      assert.match(problem.message, /empty has no payload/);
    });

    it('marks bad escapes and bad hex in the payload at their column', () => {
      const escape = onlyProblem(file('### b', 'ok {{$seq}} line', 'bad \\q {{$seq}} here'));
      assert.equal(at(escape), '2:4-5');
      assert.match(escape.message, /Malformed escape at column 5/);
      const hex = onlyProblem(file('@encoding hex', 'de ad', 'be e'));
      assert.equal(at(hex), '2:3-4');
      assert.match(hex.message, /"e" at column 4 has an odd number of digits/);
      assert.deepEqual(file('@x = 1', '@encoding hex', 'de {{x}}').problems, [], 'hex digits can span a reference: checked at send time');
    });

    it('marks bad base64 on the line where it is, across lines', () => {
      const problem = onlyProblem(file('@encoding base64', 'aGVs', 'bG!8'));
      assert.equal(at(problem), '2:2-3');
      assert.match(problem.message, /"!" .* is not a base64 character/);
    });

    it('checks headers that do not go together', () => {
      const parsed = file(
        '### burst',
        '@repeat 100',
        '@retries 2',
        '@expect size 4',
        'ping {{$seq}}',
        '### lone rate',
        '@rate 5/s',
        'x',
        '### none',
        '@expect none',
        '@retries 1',
        'x',
      );
      assert.deepEqual(
        parsed.problems.map((problem) => [at(problem), problem.severity]),
        [
          ['2:0-10', 'warning'],
          ['3:0-14', 'error'],
          ['6:0-9', 'warning'],
          ['10:0-10', 'warning'],
        ],
      );
      assert.match(parsed.problems[1].message, /@expect checks a single reply; a burst \(@repeat\) reports loss/);
      assert.match(parsed.problems[2].message, /@rate only applies to a burst: add @repeat N/);
    });
  });

  describe('payloads larger than a datagram', () => {
    /** Runs `parse`, noting the largest Buffer made meanwhile (every way Node makes one goes through these). */
    function largestBufferDuring<T>(parse: () => T): { result: T; largest: number } {
      const makers = ['alloc', 'allocUnsafe', 'allocUnsafeSlow', 'from', 'concat'] as const;
      const originals = makers.map((name) => Buffer[name]);
      let largest = 0;
      makers.forEach((name, index) => {
        const original = originals[index] as (...args: unknown[]) => Buffer;
        (Buffer as unknown as Record<string, unknown>)[name] = (...args: unknown[]): Buffer => {
          const made = original.apply(Buffer, args);
          largest = Math.max(largest, made.length);
          return made;
        };
      });
      try {
        return { result: parse(), largest };
      } finally {
        makers.forEach((name, index) => ((Buffer as unknown as Record<string, unknown>)[name] = originals[index]));
      }
    }

    it('are an error on the payload line, found without encoding them, in every encoding', () => {
      const cases = [
        { header: '', payload: 'a\\x41'.repeat(40_000), size: '80,000' },
        { header: '@encoding hex', payload: 'de ad '.repeat(40_000), size: '80,000' },
        { header: '@encoding base64', payload: 'QUJD\n'.repeat(30_000), size: '90,000' },
      ];
      for (const { header, payload, size } of cases) {
        const { result, largest } = largestBufferDuring(() => file('### big', '@target [::1]:9000', header, payload));
        const problem = onlyProblem(result);
        assert.equal(at(problem), `3:0-${payload.split('\n')[0].length}`, header);
        assert.equal(problem.message, `The payload is ${size} bytes; UDP over IPv6 carries at most 65,527. Split it into several blocks.`);
        assert.ok(largest < 1_000, `${header || 'escaped'}: a Buffer of ${largest} bytes was made`);
      }
    });

    it("use the target's limit, the larger one without a target, and count only what is written around {{…}}", () => {
      const ipv4 = onlyProblem(file('@target 127.0.0.1:9', 'x'.repeat(65_508)));
      assert.match(ipv4.message, /^The payload is 65,508 bytes; UDP over IPv4 carries at most 65,507\./);
      assert.deepEqual(file('x'.repeat(65_508)).problems, [], 'the default target may be IPv6');
      assert.deepEqual(file('@target 127.0.0.1:9', 'x'.repeat(65_507)).problems, []);
      assert.deepEqual(file('@target 127.0.0.1:9', `${'x'.repeat(65_000)}{{$uuid}}`).problems, []);
      const around = onlyProblem(file('@target 127.0.0.1:9', `{{$seq}}${'x'.repeat(60_000)}`, 'y'.repeat(5_507)));
      assert.equal(at(around), '1:0-60008');
      assert.match(around.message, /^Without its \{\{…\}\} filled in, the payload is already 65,508 bytes; UDP over IPv4/);
    });

    it('parses without making a Buffer for any payload, so a file ten times larger makes none either', () => {
      const blocks = (count: number): string =>
        Array.from(
          { length: count },
          (_, i) =>
            `### b${i}\n${['', '@encoding hex\n', '@encoding base64\n'][i % 3]}${['ping \\x00 {{$seq}}\\n', 'de ad be ef', 'aGVsbG8='][i % 3]}`,
        ).join('\n');
      for (const count of [100, 1_000]) {
        const { result, largest } = largestBufferDuring(() => parseRequestFile(blocks(count)));
        assert.equal(result.blocks.length, count);
        assert.deepEqual(result.problems, []);
        assert.equal(largest, 0, `${count} blocks`);
      }
    });
  });

  describe('work in proportion to the file', () => {
    /** How many times the parser reads a line's text, however many lines the file has. */
    function lineReads(text: string): { reads: number; lines: number } {
      const original = Object.getOwnPropertyDescriptor(TextLines.prototype, 'at')!;
      let reads = 0;
      Object.defineProperty(TextLines.prototype, 'at', {
        ...original,
        value(this: TextLines, line: number): string {
          reads++;
          return (original.value as (line: number) => string).call(this, line);
        },
      });
      try {
        parseRequestFile(text);
      } finally {
        Object.defineProperty(TextLines.prototype, 'at', original);
      }
      return { reads, lines: text.split(/\r\n|\r|\n/).length };
    }

    const blocks = (count: number): string =>
      Array.from({ length: count }, (_, i) =>
        [
          `### block ${i}`,
          '@target 127.0.0.1:9',
          ['@encoding utf8', '@encoding hex', '@encoding base64'][i % 3],
          '@expect matches /^pong \\d+$/i',
          '# a comment',
          ['ping {{$seq}} \\x00', 'de ad be ef', 'aGVs'][i % 3],
          ['second \\q line', '01 02', 'bG8='][i % 3],
          '',
        ].join(i % 2 ? '\r\n' : '\n'),
      ).join('\n');

    it('reads each line a fixed number of times: ten times the blocks, ten times the reads', () => {
      const small = lineReads(blocks(100));
      const large = lineReads(blocks(1_000));
      assert.ok(small.reads <= 2 * small.lines, `${small.reads} reads of ${small.lines} lines`);
      assert.equal(large.reads / large.lines, small.reads / small.lines);
    });
  });

  describe('hostile input', () => {
    const check = (parsed: RequestFile, text: string): void => {
      const lines = text.split(/\r\n|\r|\n/);
      for (const problem of parsed.problems) {
        assert.ok(problem.line >= 0 && problem.line < lines.length, `line ${problem.line}`);
        assert.ok(problem.column >= 0 && problem.column <= lines[problem.line].length, `column ${problem.column} on line ${problem.line}`);
        assert.ok(problem.endColumn > problem.column, 'a problem covers at least one character');
        assert.ok(problem.message.length < 400, 'messages stay short whatever the input');
      }
      for (const block of parsed.blocks) assert.ok(block.range.start <= block.range.end && block.range.end < lines.length);
    };
    const timed = (text: string, budgetMs: number): RequestFile => {
      const started = performance.now();
      const parsed = parseRequestFile(text);
      const took = performance.now() - started;
      assert.ok(took < budgetMs, `took ${took.toFixed(0)} ms`);
      check(parsed, text);
      return parsed;
    };

    it("never throws on random text built from the format's own pieces (fixed seed)", () => {
      const random = createRandom(20240601);
      const pieces = [
        '###',
        '@',
        '@target ',
        '@expect ',
        'matches /',
        'contains "',
        '"',
        '/',
        '{{',
        '}}',
        '$randomInt ',
        '$seq',
        '#',
        '//',
        '=',
        ' ',
        '\t',
        '\n',
        '\r\n',
        '\\',
        'x',
        '[',
        ']',
        ':',
        '9',
        '@encoding hex',
        '@repeat 5',
        '\u{1F600}',
        '\0',
      ];
      for (let round = 0; round < 2000; round++) {
        let text = '';
        const length = Math.floor(random() * 60);
        for (let i = 0; i < length; i++) text += pieces[Math.floor(random() * pieces.length)];
        check(parseRequestFile(text), text);
      }
    });

    it('never throws on random characters (fixed seed)', () => {
      const random = createRandom(7);
      for (let round = 0; round < 500; round++) {
        const text = Array.from({ length: 200 }, () => String.fromCharCode(Math.floor(random() * 128))).join('');
        check(parseRequestFile(text), text);
      }
    });

    it('reads 100,000-character lines quickly', () => {
      const long = 'a'.repeat(100_000);
      timed(`@target ${long}\n@expect contains "${long}\n@expect matches /${long}\n{{${long}\n${long}`, 500);
      timed(`@v = ${'{{'.repeat(50_000)}\n${'{{'.repeat(50_000)}\n${' '.repeat(100_000)}x\n${'#'.repeat(100_000)}`, 500);
      const parsed = timed(`@encoding hex\n${'0'.repeat(100_001)}`, 500);
      assert.equal(parsed.problems.length, 1);
    });

    it('reads thousands of ### quickly, one block each', () => {
      const parsed = timed('###\n'.repeat(20_000), 1000);
      assert.equal(parsed.blocks.length, 20_000);
      assert.equal(parsed.problems.length, 20_000);
      assert.equal(timed('### b\nx\n'.repeat(20_000), 1000).problems.length, 0);
    });

    it('reports everything left unterminated, each on its own line', () => {
      const parsed = timed(['### b', '@target [::1', '@expect equals "abc', 'x {{y', '### c', '@expect matches /a(', 'x'].join('\n'), 100);
      assert.deepEqual(
        parsed.problems.map((problem) => problem.line),
        [1, 2, 3, 5],
      );
    });
  });
});
