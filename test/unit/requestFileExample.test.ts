import * as assert from 'node:assert/strict';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import { exampleRequestFile, type ExampleReply } from '../../src/core/requests/requestFileExample';
import { sendRequestBlock } from '../../src/core/requests/requestRun';
import { Workbench } from '../../src/core/workbench/workbench';

const DEFAULT_TEMPLATE = 'Data received: ${text}';

describe('exampleRequestFile', () => {
  it('parses without a problem, every block aimed at the given server', () => {
    const parsed = parseRequestFile(exampleRequestFile('[::1]:9000'));
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(
      parsed.blocks.map((block) => block.name),
      ['hello', 'heartbeat with a deadline', 'binary', 'packet loss: a burst of 1000 datagrams at 200/s'],
    );
    for (const block of parsed.blocks) assert.deepEqual(block.target?.value, { host: '::1', port: 9000, family: 6 });
    assert.equal(parsed.blocks[3].repeat?.value, 1000);
  });

  it('says what the server replies, and leaves the burst out where the server cannot answer one', () => {
    const template = exampleRequestFile('127.0.0.1:9000', { mode: 'template', template: DEFAULT_TEMPLATE });
    assert.match(template, /^# The echo server there replies with its template "Data received: \$\{text\}"/m);
    assert.match(template, /^@expect contains "Data received:"$/m);
    const listening = exampleRequestFile('127.0.0.1:9000', { mode: 'none' });
    assert.match(listening, /^# The echo server there only listens \(reply mode "none"\): the blocks expect no reply\.$/m);
    for (const text of [template, listening]) {
      const parsed = parseRequestFile(text);
      assert.deepEqual(parsed.problems, []);
      assert.deepEqual(
        parsed.blocks.map((block) => block.name),
        ['hello', 'heartbeat with a deadline', 'binary'],
      );
    }
  });

  // Each reply mode, and templates whose fixed text cannot be quoted as it is or that have none.
  const replies: ExampleReply[] = [
    { mode: 'mirror' },
    { mode: 'template', template: DEFAULT_TEMPLATE },
    { mode: 'template', template: 'say "${text}"\\n\tto ${peer} {{x}} #${seq}' },
    { mode: 'template', template: '${seq}${size}' },
    { mode: 'none' },
  ];
  for (const reply of replies) {
    it(`passes every single block against a real server that replies ${reply.mode}${reply.template ? ` ${JSON.stringify(reply.template)}` : ''}`, async () => {
      const workbench = new Workbench();
      try {
        const server = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: reply.mode, template: reply.template });
        const file = parseRequestFile(exampleRequestFile(`127.0.0.1:${server.local.port}`, reply));
        assert.deepEqual(file.problems, []);
        // The burst (mirror only) is Run All's in the extension host test: 1000 datagrams take 5 s.
        const single = file.blocks.filter((block) => block.repeat === undefined);
        assert.equal(single.length, 3);
        const defaults = { target: '127.0.0.1:9', timeoutMs: 1000, retries: 0, backoff: 1 };
        const results = [];
        for (const [index, block] of single.entries()) results.push(await sendRequestBlock(workbench, file, block, defaults, index + 1));
        assert.deepEqual(
          results.map((result) => [result.name, result.outcome]),
          single.map((block) => [block.name, 'passed']),
          results.map((result) => result.detail).join('\n'),
        );
      } finally {
        await workbench.dispose();
      }
    });
  }
});
