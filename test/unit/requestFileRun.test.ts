import * as assert from 'node:assert/strict';
import type { EchoServer } from '../../src/core/server/echoServer';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import { runRequestFile } from '../../src/core/requests/requestFileRun';
import type { SendDefaults } from '../../src/core/requests/requestRun';
import { Workbench } from '../../src/core/workbench/workbench';

describe('runRequestFile (Run All, for the editor and udpw run)', () => {
  let workbench: Workbench;
  let echo: EchoServer;
  let defaults: SendDefaults;
  const FILE = `### first\n@expect equals "a1"\na{{$seq}}\n\n### second\n@expect equals "nope"\nb{{$seq}}\n\n### third\n@repeat 3\nc{{$seq}}\n`;

  beforeEach(async () => {
    workbench = new Workbench();
    echo = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror', rateLimit: false });
    defaults = { target: `127.0.0.1:${echo.local.port}`, timeoutMs: 1000, retries: 0, backoff: 1 };
  });
  afterEach(() => workbench.dispose());

  function counter(): { nextSeq: (count: number) => number; asked: number[] } {
    let seq = 0;
    const asked: number[] = [];
    return {
      asked,
      nextSeq: (count) => {
        asked.push(count);
        const first = seq + 1;
        seq += count;
        return first;
      },
    };
  }

  it('sends every block in order, numbering datagrams on across blocks, and passes only when every block did', async () => {
    const seq = counter();
    const seen: string[] = [];
    const run = await runRequestFile(workbench, parseRequestFile(FILE), defaults, {
      nextSeq: seq.nextSeq,
      onBlockStart: (block) => seen.push(`start ${block.name}`),
      onBlockResult: (block, result) => seen.push(`${block.name} ${result.outcome}`),
    });
    assert.deepEqual(seen, ['start first', 'first passed', 'start second', 'second failed', 'start third', 'third passed']);
    assert.deepEqual(seq.asked, [1, 1, 3], 'a burst takes a number per datagram');
    assert.equal(run.results[1].reply, 'b2');
    assert.equal(run.passed, false);
    assert.deepEqual([run.summary.total, run.summary.passed, run.summary.failed], [3, 2, 1]);
  });

  it('with bail, stops after the first block that did not pass; a signal stops before the next block', async () => {
    const bailed = await runRequestFile(workbench, parseRequestFile(FILE), defaults, { nextSeq: counter().nextSeq, bail: true });
    assert.deepEqual(
      bailed.results.map((result) => result.name),
      ['first', 'second'],
    );
    const controller = new AbortController();
    const stopped = await runRequestFile(workbench, parseRequestFile(FILE), defaults, {
      nextSeq: counter().nextSeq,
      signal: controller.signal,
      onBlockResult: () => controller.abort(),
    });
    assert.deepEqual(
      stopped.results.map((result) => result.name),
      ['first'],
    );
    assert.equal(stopped.passed, true, 'what ran passed');
  });

  it('lets the caller send a block its own way (the editor asks first in Restricted Mode)', async () => {
    const run = await runRequestFile(workbench, parseRequestFile(FILE), defaults, {
      nextSeq: counter().nextSeq,
      sendBlock: async (block, send) =>
        block.name === 'second'
          ? { name: block.name, line: block.range.start, outcome: 'cancelled', summary: '⊘', detail: 'not confirmed' }
          : send(),
    });
    assert.deepEqual(
      run.results.map((result) => result.outcome),
      ['passed', 'cancelled', 'passed'],
    );
    assert.equal(echo.counters.received, 4, 'the block not confirmed sent nothing');
  });

  it('--var overrides reach headers and payloads, and define variables the file lacks', () => {
    const file = parseRequestFile(
      '@host = 127.0.0.1:1\n### one\n@target {{host}}\n{{word}}\n',
      new Map([
        ['host', '127.0.0.1:9'],
        ['word', 'hi'],
      ]),
    );
    assert.deepEqual(file.problems, []);
    assert.equal(file.blocks[0].target?.value.port, 9);
    assert.equal(file.variables.get('word')?.value, 'hi');
    assert.equal(file.variables.get('host')?.line, 0, 'an overridden variable keeps the line that defined it');
  });
});
