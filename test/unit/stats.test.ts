import * as assert from 'node:assert/strict';
import { formatCount, formatMs, RoundTripStats } from '../../src/core/stats';

function statsOf(samples: number[]): RoundTripStats {
  const stats = new RoundTripStats();
  for (const ms of samples) stats.add(ms);
  return stats;
}

describe('RoundTripStats', () => {
  it('has only a count before the first sample', () => {
    const stats = new RoundTripStats();
    assert.deepEqual(stats.summary(), { count: 0, min: undefined, mean: undefined, p50: undefined, p99: undefined, max: undefined });
    assert.equal(stats.percentile(90), undefined);
  });

  it('keeps count, min, max and mean', () => {
    const stats = statsOf([3, 1, 2, 6]);
    assert.equal(stats.count, 4);
    assert.equal(stats.min, 1);
    assert.equal(stats.max, 6);
    assert.equal(stats.mean, 3);
  });

  it('takes percentiles by nearest rank', () => {
    const stats = statsOf([50, 15, 40, 20, 35]);
    assert.equal(stats.percentile(0), 15);
    assert.equal(stats.percentile(5), 15);
    assert.equal(stats.percentile(30), 20);
    assert.equal(stats.percentile(40), 20);
    assert.equal(stats.percentile(50), 35);
    assert.equal(stats.percentile(100), 50);
  });

  it('gives p50 and p99 of 1..100 as 50 and 99, in any order of arrival', () => {
    const samples = Array.from({ length: 100 }, (_, i) => ((i * 37) % 100) + 1);
    const stats = statsOf(samples);
    assert.equal(stats.p50, 50);
    assert.equal(stats.p99, 99);
    assert.deepEqual(stats.summary(), { count: 100, min: 1, mean: 50.5, p50: 50, p99: 99, max: 100 });
  });

  it('sees samples added after a percentile was read', () => {
    const stats = statsOf([1, 2, 3]);
    assert.equal(stats.p50, 2);
    stats.add(10);
    stats.add(11);
    assert.equal(stats.p50, 3);
    assert.equal(stats.max, 11);
  });

  it('rejects a percentile outside 0..100', () => {
    const stats = statsOf([1]);
    assert.throws(() => stats.percentile(101), RangeError);
    assert.throws(() => stats.percentile(-1), RangeError);
    assert.throws(() => stats.percentile(Number.NaN), RangeError);
  });

  it('keeps at most 100,000 samples, with exact totals and close, repeatable percentiles', () => {
    const total = 250_000;
    const run = (): RoundTripStats => {
      const stats = new RoundTripStats();
      for (let i = 0; i < total; i++) stats.add((i * 7919) % total);
      return stats;
    };
    const stats = run();
    assert.equal((stats as unknown as { samples: number[] }).samples.length, 100_000);
    assert.equal(stats.count, total);
    assert.equal(stats.min, 0);
    assert.equal(stats.max, total - 1);
    assert.equal(stats.mean, (total - 1) / 2);
    const p50 = stats.p50 ?? Number.NaN;
    assert.ok(Math.abs(p50 - total / 2) < total * 0.01, `p50 ${p50}`);
    assert.equal(run().p50, p50);
  });
});

describe('formatCount', () => {
  it('writes every count with the same thousands separators', () => {
    assert.deepEqual([0, 7, 999, 1000, 65_507, 1_000_000].map(formatCount), ['0', '7', '999', '1,000', '65,507', '1,000,000']);
  });
});

describe('formatMs', () => {
  const cases: Array<[number, string]> = [
    [0, '0.00 ms'],
    [0.42, '0.42 ms'],
    [3.14159, '3.14 ms'],
    [9.996, '10.0 ms'],
    [12.34, '12.3 ms'],
    [250, '250 ms'],
    [999.6, '1.00 s'],
    [1200, '1.20 s'],
    [95_000, '95.0 s'],
    [600_000, '600 s'],
  ];
  for (const [ms, text] of cases) {
    it(`shows ${ms} as ${text}`, () => assert.equal(formatMs(ms), text));
  }
});
