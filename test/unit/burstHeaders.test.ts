import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { BURST_LIMITS } from '../../src/core/limits';
import { sendBurst } from '../../src/core/send/client';
import { isWorkbenchError } from '../../src/core/errors';
import { parseRequestFile } from '../../src/core/requests/requestFile';

/** Whether the editor marks the header as an error. */
function editorAccepts(header: string): boolean {
  return parseRequestFile(`${header}\nx`).problems.every((problem) => problem.severity !== 'error');
}

/** Whether sendBurst takes the value (one datagram to a socket that never answers, waiting 1 ms), or refuses it as a bad setting. */
async function clientAccepts(port: number, value: { count?: number; ratePerSecond?: number }): Promise<boolean> {
  try {
    await sendBurst({
      target: { host: '127.0.0.1', port },
      payload: Buffer.from('x'),
      timeoutMs: 1,
      count: 1,
      window: 1,
      ...value,
      signal: AbortSignal.timeout(2000),
    });
    return true;
  } catch (error) {
    if (isWorkbenchError(error) && error.code === 'BAD_SETTING') return false;
    throw error;
  }
}

describe('burst headers', () => {
  let sink: dgram.Socket;
  before(async () => {
    sink = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => sink.bind(0, '127.0.0.1', resolve));
  });
  after(() => sink.close());

  it('have the same limits in the .udp parser and in sendBurst, at each edge', async () => {
    const { minRate, maxRate, minCount, maxCount } = BURST_LIMITS;
    const rates = [minRate / 10, minRate, maxRate, maxRate * 2];
    const counts = [minCount - 1, minCount, maxCount, maxCount + 1];
    for (const rate of rates) {
      const inside = rate >= minRate && rate <= maxRate;
      assert.equal(editorAccepts(`@repeat 1\n@rate ${rate}/s`), inside, `editor, @rate ${rate}/s`);
      assert.equal(await clientAccepts(sink.address().port, { ratePerSecond: rate }), inside, `client, ${rate}/s`);
    }
    for (const count of counts) {
      const inside = count >= minCount && count <= maxCount;
      assert.equal(editorAccepts(`@repeat ${count}`), inside, `editor, @repeat ${count}`);
      // The client is asked only about the counts outside: a million inside would take long to send.
      if (!inside) assert.equal(await clientAccepts(sink.address().port, { count }), false, `client, count ${count}`);
    }
  });

  it('tell the user the range of @rate in the editor: @rate 0.0001/s is marked, not refused at send', () => {
    const [problem] = parseRequestFile('@repeat 10\n@rate 0.0001/s\nx').problems;
    assert.match(problem.message, /^Bad @rate "0\.0001\/s": write datagrams per second like 200\/s \(from 0\.001\/s to 1000000\/s\)\.$/);
  });

  it('read @tag on and off, say what else is wrong, and warn when there is no burst to tag', () => {
    const [on, off, single] = parseRequestFile(
      '### on\n@repeat 5\n@tag on\nx\n### off\n@repeat 5\n@tag off # count by order\nx\n### single\n@tag off\nx',
    ).blocks;
    assert.deepEqual([on.tag?.value, off.tag?.value, single.tag?.value], [true, false, false]);
    const problems = parseRequestFile('### single\n@tag off\nx\n### bad\n@repeat 2\n@tag no\nx').problems;
    assert.deepEqual(
      problems.map((problem) => [problem.line, problem.severity, problem.message]),
      [
        [1, 'warning', '@tag only applies to a burst: add @repeat N to send N datagrams.'],
        [
          5,
          'error',
          'Bad @tag "no": write off to send a burst\'s datagrams without their 8-byte tag (replies are then counted by order), or on.',
        ],
      ],
    );
  });
});
