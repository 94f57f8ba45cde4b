import * as assert from 'node:assert/strict';
import { parseRequestFile } from '../../src/core/requestFile';
import { exampleRequestFile } from '../../src/core/requestFileExample';

describe('exampleRequestFile', () => {
  it('parses without a problem, every block aimed at the given server', () => {
    const parsed = parseRequestFile(exampleRequestFile('[::1]:9000'));
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.blocks.map((block) => block.name), ['hello', 'heartbeat with a deadline', 'binary', 'packet loss: a burst of 1000 datagrams at 200/s']);
    for (const block of parsed.blocks) assert.deepEqual(block.target?.value, { host: '::1', port: 9000, family: 6 });
    assert.equal(parsed.blocks[3].repeat?.value, 1000);
  });
});
