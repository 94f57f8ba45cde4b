import * as assert from 'node:assert/strict';
import { flipBit, LinkImpairment, NO_LINK_IMPAIRMENT, REORDER_HOLD_MS, type LinkFate } from '../../src/core/impairment/impairment';
import { describeLink, LINK_PRESETS, parseLinkSpec } from '../../src/core/impairment/simulationSpec';
import { DelayedCopies } from '../../src/core/impairment/delayedCopies';
import type { WorkbenchError } from '../../src/core/errors';
import type { LinkSettings } from '../../src/core/configuration';

const link = (changes: Partial<LinkSettings>): LinkSettings => ({ ...NO_LINK_IMPAIRMENT, ...changes });
const N = 100_000;

function fates(settings: LinkSettings, count: number, size = 100): LinkFate[] {
  const impairment = new LinkImpairment(settings);
  return Array.from({ length: count }, (_, i) => impairment.decide(size, i * 1000));
}

/** Lengths of the runs of consecutive losses. */
function bursts(list: readonly LinkFate[]): number[] {
  const runs: number[] = [];
  let run = 0;
  for (const fate of list) {
    if (fate.kind === 'lost') run++;
    else if (run > 0) {
      runs.push(run);
      run = 0;
    }
  }
  return runs;
}

describe('LinkImpairment', () => {
  it('forwards every datagram at once, unchanged, when no impairment is set, whatever the seed', () => {
    const impairment = new LinkImpairment(link({ seed: 9, queueLimit: 5, burstLength: 4 }));
    assert.equal(impairment.active, false);
    for (const fate of fates(link({ seed: 9 }), 1000)) {
      assert.deepEqual(fate, {
        kind: 'forwarded',
        copies: [{ delayMs: 0, duplicate: false, reordered: false }],
        corruptBit: undefined,
        queuedMs: 0,
      });
    }
    for (const changes of [
      { loss: 0.1 },
      { delayMs: 1 },
      { jitterMs: 1 },
      { duplicate: 0.1 },
      { reorder: 0.1 },
      { corrupt: 0.1 },
      { rateKbps: 1 },
    ]) {
      assert.equal(new LinkImpairment(link(changes)).active, true, JSON.stringify(changes));
    }
  });

  it('loses independently at the set rate, within ±1 percentage point over 100,000 datagrams', () => {
    for (const loss of [0.01, 0.05, 0.3]) {
      const lost = fates(link({ loss, seed: 3 }), N).filter((fate) => fate.kind === 'lost').length;
      assert.ok(Math.abs(lost / N - loss) <= 0.01, `${lost} of ${N} at ${loss}`);
      const runs = bursts(fates(link({ loss, seed: 3 }), N));
      // Independent losses: runs are geometric with mean 1 / (1 - loss).
      const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
      assert.ok(Math.abs(mean - 1 / (1 - loss)) < 0.1, `mean run ${mean}`);
    }
  });

  it('loses in bursts of the set mean length (Gilbert–Elliott) at the same long-run rate', () => {
    for (const [loss, burstLength] of [
      [0.05, 3],
      [0.1, 8],
    ]) {
      const list = fates(link({ loss, burstLength, seed: 17 }), N);
      const lost = list.filter((fate) => fate.kind === 'lost').length;
      assert.ok(Math.abs(lost / N - loss) <= 0.01, `${lost} of ${N} at ${loss} in bursts of ${burstLength}`);
      const runs = bursts(list);
      const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
      // The mean of ~N·loss/L geometric runs, each with sd √(L² − L): 5 standard errors.
      const bound = (5 * Math.sqrt(burstLength * burstLength - burstLength)) / Math.sqrt(runs.length);
      assert.ok(Math.abs(mean - burstLength) <= bound, `mean burst ${mean}, expected ${burstLength} ± ${bound}`);
    }
  });

  it('duplicates, reorders and corrupts at their rates, and corrupts one bit inside the datagram', () => {
    const list = fates(link({ duplicate: 0.02, reorder: 0.03, corrupt: 0.04, jitterMs: 10, seed: 8 }), N, 10);
    const forwarded = list.filter((fate) => fate.kind === 'forwarded');
    assert.equal(forwarded.length, N);
    const share = (count: number, p: number) => Math.abs(count / N - p) <= 5 * Math.sqrt((p * (1 - p)) / N);
    assert.ok(share(forwarded.filter((fate) => fate.copies.length === 2).length, 0.02));
    assert.ok(share(forwarded.filter((fate) => fate.copies[0].reordered).length, 0.03));
    const corrupted = forwarded.filter((fate) => fate.corruptBit !== undefined);
    assert.ok(share(corrupted.length, 0.04));
    assert.ok(corrupted.every((fate) => fate.corruptBit! >= 0 && fate.corruptBit! < 80));
    for (const fate of forwarded) {
      const { delayMs, reordered } = fate.copies[0];
      assert.ok(reordered ? delayMs >= 10 + REORDER_HOLD_MS : delayMs <= 10);
    }
  });

  it('sends at the set bandwidth and drops what overflows its queue', () => {
    // 80 kbit/s: a 100-byte datagram takes 10 ms.
    const impairment = new LinkImpairment(link({ rateKbps: 80, queueLimit: 3 }));
    const at0 = [0, 1, 2, 3].map(() => impairment.decide(100, 0));
    assert.deepEqual(
      at0.map((fate) => (fate.kind === 'forwarded' ? fate.queuedMs : fate.kind)),
      [10, 20, 30, 'queue-full'],
    );
    // At 10 ms the first has left: room for one more, behind the other two.
    const next = impairment.decide(100, 10);
    assert.equal(next.kind === 'forwarded' && next.queuedMs, 30);
  });

  it('gives the same fates for the same seed, whatever the settings of other kinds', () => {
    const settings = link({ loss: 0.1, burstLength: 2, duplicate: 0.1, reorder: 0.1, corrupt: 0.1, jitterMs: 20, seed: 42 });
    assert.deepEqual(fates(settings, 1000), fates(settings, 1000));
    assert.notDeepEqual(fates(settings, 1000), fates({ ...settings, seed: 43 }, 1000));
    // Loss draws stay where they are when corruption is switched off.
    const lostAt = (list: LinkFate[]) => list.flatMap((fate, i) => (fate.kind === 'lost' ? [i] : []));
    assert.deepEqual(lostAt(fates({ ...settings, corrupt: 0 }, 1000)), lostAt(fates(settings, 1000)));
  });

  it('rejects what cannot be simulated, saying what is allowed', () => {
    assert.throws(() => new LinkImpairment(link({ loss: 1.5 })), /loss is 1\.5; it must be a chance from 0 to 1/);
    assert.throws(() => new LinkImpairment(link({ loss: 0.5, burstLength: 0.5 })), /burstLength is 0\.5; it must be at least 1/);
    assert.throws(() => new LinkImpairment(link({ queueLimit: 0 })), /queueLimit is 0/);
    assert.throws(() => new LinkImpairment(link({ rateKbps: -1 })), /rateKbps is -1/);
  });

  it('flips the one bit asked for', () => {
    assert.deepEqual([...flipBit(Buffer.from([0, 0]), 0)], [0x80, 0]);
    assert.deepEqual([...flipBit(Buffer.from([0xff, 0xff]), 15)], [0xff, 0xfe]);
  });
});

describe('parseLinkSpec', () => {
  it('reads every setting with its unit', () => {
    const settings = parseLinkSpec(
      'loss=5% burst=3 delay=80ms jitter=30ms dup=1% reorder=2% corrupt=0.1% rate=2mbit queue=50 seed=42',
      NO_LINK_IMPAIRMENT,
    );
    assert.deepEqual(settings, {
      seed: 42,
      loss: 0.05,
      burstLength: 3,
      delayMs: 80,
      jitterMs: 30,
      duplicate: 0.01,
      reorder: 0.02,
      corrupt: 0.001,
      rateKbps: 2000,
      queueLimit: 50,
    });
    assert.equal(
      describeLink(settings),
      '5% lost in bursts of 3, 80 ms + up to 30 ms jitter, 1% duplicated, 2% reordered, 0.1% corrupted, 2 Mbit/s (queue 50) (seed 42)',
    );
  });

  it('starts from a preset and adjusts it; every preset is valid', () => {
    for (const name of Object.keys(LINK_PRESETS)) assert.ok(parseLinkSpec(name, NO_LINK_IMPAIRMENT).delayMs > 0, name);
    const settings = parseLinkSpec('satellite loss=3%', link({ seed: 9 }));
    assert.equal(settings.delayMs, 300);
    assert.equal(settings.loss, 0.03);
    assert.equal(settings.seed, 9);
    assert.deepEqual(parseLinkSpec('off', link({ loss: 0.5, seed: 9 })), link({ seed: 9 }));
  });

  it('says what was wrong and how to write it', () => {
    assert.throws(() => parseLinkSpec('loss=5ms', NO_LINK_IMPAIRMENT), /"loss=5ms" has the wrong unit/);
    assert.throws(() => parseLinkSpec('wifi', NO_LINK_IMPAIRMENT), /not a link setting/);
    assert.throws(() => parseLinkSpec('rate=5%', NO_LINK_IMPAIRMENT), /wrong unit/);
  });

  it('refuses a rate too slow for a queue to drain (its waits would overflow a timer), saying the range', () => {
    for (const spec of ['rate=0.001kbit', 'rate=0.05kbit', 'rate=20000mbit']) {
      assert.throws(
        () => parseLinkSpec(spec, NO_LINK_IMPAIRMENT),
        (error: WorkbenchError) =>
          error.message.includes(`"${spec}" is outside the rates a link can have`) &&
          /from 0\.1kbit to 10000mbit, or rate=0kbit/.test(error.hint),
      );
    }
    assert.equal(parseLinkSpec('rate=0.1kbit', NO_LINK_IMPAIRMENT).rateKbps, 0.1);
    assert.equal(parseLinkSpec('rate=0kbit', NO_LINK_IMPAIRMENT).rateKbps, 0);
    assert.throws(() => new LinkImpairment(link({ rateKbps: 0.001 })), /rateKbps is 0\.001.*from 0\.1 to 10000000, or 0 for no limit/);
  });
});

describe('DelayedCopies', () => {
  it('holds a copy whose delay is beyond one timer (~24.8 days) for all of it: never early, no TimeoutOverflowWarning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error): number => warnings.push(warning);
    process.on('warning', onWarning);
    const waiting = new DelayedCopies<string>();
    const sent: string[] = [];
    const cancelled: string[] = [];
    try {
      waiting.send('late', [{ delayMs: 2 ** 31 + 5000 }, { delayMs: 2 ** 40 }], (item) => sent.push(item));
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      waiting.cancelAll((item) => cancelled.push(item));
      process.off('warning', onWarning);
    }
    assert.deepEqual(sent, [], 'nothing left early');
    assert.deepEqual(
      warnings.map((warning) => warning.name),
      [],
    );
    assert.deepEqual(cancelled, ['late', 'late'], 'both copies are handed back on cancel');
  });
});
