import * as assert from 'node:assert/strict';
import { isWorkbenchError } from '../../src/core/errors';
import { Impairment, NO_SIMULATION, REORDER_HOLD_MS, validateSimulation, type ReplyPlan } from '../../src/core/impairment/impairment';
import { SIMULATION_LIMITS } from '../../src/core/limits';
import type { SimulationSettings } from '../../src/core/configuration';

function simulation(changes: Partial<SimulationSettings>): SimulationSettings {
  return { ...NO_SIMULATION, ...changes };
}

/** What the server would decide for `count` datagrams in a row: inbound drop, then the reply plan. */
function decide(settings: SimulationSettings, count: number): Array<'dropped' | ReplyPlan> {
  const impairment = new Impairment(settings);
  return Array.from({ length: count }, () => (impairment.dropsInbound() ? 'dropped' : impairment.planReply()));
}

function plans(settings: SimulationSettings, count: number): ReplyPlan[] {
  const impairment = new Impairment(settings);
  return Array.from({ length: count }, () => impairment.planReply());
}

function countWhere<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  return items.filter(predicate).length;
}

describe('Impairment', () => {
  it('without simulation never drops and replies once, at once', () => {
    const impairment = new Impairment(NO_SIMULATION);
    assert.equal(impairment.active, false);
    for (let i = 0; i < 100; i++) {
      assert.equal(impairment.dropsInbound(), false);
      assert.deepEqual(impairment.planReply(), { dropped: false, copies: [{ delayMs: 0, duplicate: false, reordered: false }] });
    }
  });

  it('decides the same sequence for the same seed', () => {
    const settings = simulation({ seed: 7, dropInbound: 0.2, dropOutbound: 0.2, jitterMs: 30, duplicate: 0.3, reorder: 0.3 });
    assert.deepEqual(decide(settings, 1000), decide(settings, 1000));
  });

  it('decides a different sequence for a different seed', () => {
    const settings = simulation({ seed: 7, dropInbound: 0.2, dropOutbound: 0.2, jitterMs: 30, duplicate: 0.3, reorder: 0.3 });
    assert.notDeepEqual(decide(settings, 1000), decide({ ...settings, seed: 8 }, 1000));
  });

  it('drops 10% inbound within ±1% over 100,000 decisions', () => {
    const impairment = new Impairment(simulation({ seed: 3, dropInbound: 0.1 }));
    let dropped = 0;
    for (let i = 0; i < 100_000; i++) if (impairment.dropsInbound()) dropped++;
    assert.ok(dropped >= 9_000 && dropped <= 11_000, `${dropped} of 100,000 dropped`);
  });

  it('drops 10% of replies within ±1% over 100,000 decisions, with no copies', () => {
    const decided = plans(simulation({ seed: 4, dropOutbound: 0.1 }), 100_000);
    const dropped = decided.filter((plan) => plan.dropped);
    assert.ok(dropped.length >= 9_000 && dropped.length <= 11_000, `${dropped.length} of 100,000 dropped`);
    for (const plan of dropped) assert.equal(plan.copies.length, 0);
  });

  it('delays by delayMs plus a whole-ms jitter from 0 to jitterMs', () => {
    const delays = plans(simulation({ seed: 5, delayMs: 50, jitterMs: 20 }), 10_000).map((plan) => plan.copies[0].delayMs);
    for (const delay of delays) assert.ok(Number.isInteger(delay) && delay >= 50 && delay <= 70, `delay ${delay}`);
    assert.equal(Math.min(...delays), 50);
    assert.equal(Math.max(...delays), 70);
    const mean = delays.reduce((sum, delay) => sum + delay, 0) / delays.length;
    assert.ok(Math.abs(mean - 60) < 0.5, `mean delay ${mean}`);
  });

  it('duplicates a reply as a second copy with the same delay', () => {
    const decided = plans(simulation({ seed: 6, delayMs: 10, jitterMs: 5, duplicate: 0.25 }), 10_000);
    const doubled = decided.filter((plan) => plan.copies.length === 2);
    assert.ok(Math.abs(doubled.length - 2_500) < 250, `${doubled.length} of 10,000 duplicated`);
    for (const { copies } of doubled) {
      assert.deepEqual([copies[0].duplicate, copies[1].duplicate], [false, true]);
      assert.equal(copies[1].delayMs, copies[0].delayMs);
    }
    assert.equal(
      countWhere(decided, (plan) => plan.copies.length > 2 || plan.copies.length === 0),
      0,
    );
  });

  it('holds a reordered reply back longer than any ordinary one', () => {
    const settings = simulation({ seed: 9, delayMs: 10, jitterMs: 40, reorder: 0.5 });
    const copies = plans(settings, 10_000).map((plan) => plan.copies[0]);
    const longestOrdinary = Math.max(...copies.filter((copy) => !copy.reordered).map((copy) => copy.delayMs));
    const shortestReordered = Math.min(...copies.filter((copy) => copy.reordered).map((copy) => copy.delayMs));
    assert.ok(longestOrdinary <= 10 + 40);
    assert.ok(shortestReordered >= 10 + 40 + REORDER_HOLD_MS, `a reordered reply waited only ${shortestReordered} ms`);
    assert.ok(Math.abs(countWhere(copies, (copy) => copy.reordered) - 5_000) < 300);
  });

  it('draws the same numbers whatever the chances, so one setting does not shift another', () => {
    const delays = (settings: SimulationSettings) => plans(settings, 1000).map((plan) => plan.copies[0].delayMs);
    const base = simulation({ seed: 11, jitterMs: 100 });
    assert.deepEqual(delays({ ...base, duplicate: 0.5 }), delays(base));
  });

  it('starts over from the seed in a new Impairment', () => {
    const settings = simulation({ seed: 12, dropInbound: 0.5 });
    const first = new Impairment(settings);
    const opening = Array.from({ length: 50 }, () => first.dropsInbound());
    const again = new Impairment(settings);
    assert.deepEqual(
      Array.from({ length: 50 }, () => again.dropsInbound()),
      opening,
    );
  });
});

describe('validateSimulation', () => {
  it('returns a frozen copy of valid settings', () => {
    const settings = simulation({ seed: -5, dropInbound: 1, delayMs: SIMULATION_LIMITS.maxDelayMs });
    const valid = validateSimulation(settings);
    assert.deepEqual(valid, settings);
    assert.ok(Object.isFrozen(valid));
  });

  const bad: Array<[Partial<SimulationSettings>, string, string]> = [
    [{ dropInbound: 1.5 }, 'dropInbound', '1.5'],
    [{ dropOutbound: -0.1 }, 'dropOutbound', '-0.1'],
    [{ duplicate: Number.NaN }, 'duplicate', 'NaN'],
    [{ reorder: '0.5' as unknown as number }, 'reorder', '"0.5"'],
    [{ delayMs: -1 }, 'delayMs', '-1'],
    [{ jitterMs: 2.5 }, 'jitterMs', '2.5'],
    [{ delayMs: SIMULATION_LIMITS.maxDelayMs + 1 }, 'delayMs', String(SIMULATION_LIMITS.maxDelayMs + 1)],
    [{ seed: 0.5 }, 'seed', '0.5'],
  ];
  for (const [changes, field, shown] of bad) {
    it(`rejects ${field} = ${shown} with BAD_SETTING naming the field, the value and the range`, () => {
      assert.throws(
        () => validateSimulation(simulation(changes)),
        (error) =>
          isWorkbenchError(error) &&
          error.code === 'BAD_SETTING' &&
          error.fix === 'open-settings' &&
          error.message.includes(field) &&
          error.message.includes(shown) &&
          / from | whole number/.test(error.message),
      );
    });
  }

  it('is applied by the Impairment constructor', () => {
    assert.throws(() => new Impairment(simulation({ dropInbound: 2 })), { code: 'BAD_SETTING' });
  });
});
