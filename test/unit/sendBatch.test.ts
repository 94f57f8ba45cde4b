import * as assert from 'node:assert/strict';
import { SendBatch } from '../../src/core/server/sendBatch';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('SendBatch', () => {
  it('sends nothing while the turn goes on, then everything added in it, in order', async () => {
    const sent: string[] = [];
    const batch = new SendBatch<string, number>((item, copy) => sent.push(`${item}#${copy}`));
    batch.add('a', 1);
    batch.add('b', 1);
    batch.add('a', 2);
    await Promise.resolve();
    assert.deepEqual(sent, [], 'nothing leaves before the event loop has read what is waiting');
    await nextTurn();
    assert.deepEqual(sent, ['a#1', 'b#1', 'a#2']);
    batch.add('c', 1);
    await nextTurn();
    assert.deepEqual(sent, ['a#1', 'b#1', 'a#2', 'c#1']);
  });

  it('sends at once on flush, and not a second time when the turn ends', async () => {
    const sent: string[] = [];
    const batch = new SendBatch<string, number>((item) => sent.push(item));
    batch.add('a', 0);
    batch.flush();
    assert.deepEqual(sent, ['a']);
    await nextTurn();
    await nextTurn();
    assert.deepEqual(sent, ['a']);
  });

  it('takes sends added while it sends into the next batch', async () => {
    const sent: string[] = [];
    const batch: SendBatch<string, number> = new SendBatch((item) => {
      sent.push(item);
      if (item === 'a') batch.add('b', 0);
    });
    batch.add('a', 0);
    await nextTurn();
    assert.deepEqual(sent, ['a']);
    await nextTurn();
    assert.deepEqual(sent, ['a', 'b']);
  });
});
