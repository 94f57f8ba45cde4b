import * as assert from 'node:assert/strict';
import { createRandom } from '../../src/core/random';

function take(next: () => number, count: number): number[] {
  return Array.from({ length: count }, next);
}

describe('createRandom', () => {
  it('gives the same sequence for the same seed', () => {
    assert.deepEqual(take(createRandom(42), 1000), take(createRandom(42), 1000));
  });

  it('gives different sequences for different seeds', () => {
    const one = take(createRandom(1), 100);
    const two = take(createRandom(2), 100);
    assert.notDeepEqual(one, two);
    assert.ok(one.filter((value, i) => value === two[i]).length < 5);
  });

  it('uses the seed modulo 2^32, so negative and large seeds work', () => {
    assert.deepEqual(take(createRandom(2 ** 32 + 7), 10), take(createRandom(7), 10));
    assert.deepEqual(take(createRandom(-1), 10), take(createRandom(2 ** 32 - 1), 10));
  });

  it('stays in [0, 1) and spreads evenly over ten bins', () => {
    const next = createRandom(2024);
    const bins = new Array<number>(10).fill(0);
    const draws = 100_000;
    for (let i = 0; i < draws; i++) {
      const value = next();
      assert.ok(value >= 0 && value < 1, `${value} is outside [0, 1)`);
      bins[Math.floor(value * 10)]++;
    }
    for (const count of bins) assert.ok(Math.abs(count - draws / 10) < draws / 100, `bin count ${count} is far from ${draws / 10}`);
  });
});
