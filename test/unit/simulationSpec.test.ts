import * as assert from 'node:assert/strict';
import { WorkbenchError } from '../../src/core/errors';
import { NO_LINK_IMPAIRMENT, NO_SIMULATION } from '../../src/core/impairment/impairment';
import { describeLink, describeSimulation, parseLinkSpec, parseSimulationSpec } from '../../src/core/impairment/simulationSpec';

describe('parseSimulationSpec', () => {
  it('reads percentages, milliseconds and the seed', () => {
    const s = parseSimulationSpec('loss=10% out=5% delay=50ms jitter=20 dup=1% reorder=2.5% seed=42', NO_SIMULATION);
    assert.deepEqual(s, { seed: 42, dropInbound: 0.1, dropOutbound: 0.05, delayMs: 50, jitterMs: 20, duplicate: 0.01, reorder: 0.025 });
  });

  it('keeps what it is not told and clears everything on "off"', () => {
    const base = parseSimulationSpec('loss=10% delay=5ms seed=7', NO_SIMULATION);
    assert.deepEqual(parseSimulationSpec('jitter=3ms', base), { ...base, jitterMs: 3 });
    assert.deepEqual(parseSimulationSpec(' off ', base), { ...NO_SIMULATION, seed: 7 });
  });

  it('says which word is wrong, where, and what to write instead', () => {
    assert.throws(
      () => parseSimulationSpec('loss=10% lag=5ms', NO_SIMULATION),
      (error: WorkbenchError) =>
        error.code === 'BAD_SETTING' &&
        error.offset === 9 &&
        /"lag=5ms" is not a simulation setting/.test(error.message) &&
        /loss=10%/.test(error.hint),
    );
    assert.throws(() => parseSimulationSpec('delay=5%', NO_SIMULATION), /wrong unit/);
    assert.throws(
      () => parseSimulationSpec('loss=150%', NO_SIMULATION),
      (error: WorkbenchError) => error.code === 'BAD_SETTING',
    );
  });

  it('describes a simulation in words', () => {
    assert.equal(describeSimulation(NO_SIMULATION), 'no impairment');
    assert.equal(
      describeSimulation(parseSimulationSpec('loss=10% delay=50ms jitter=20ms seed=3', NO_SIMULATION)),
      '10% lost in, 50 ms + up to 20 ms jitter (seed 3)',
    );
  });
});

describe('simulation and link specs, word by word', () => {
  const busy = { seed: 9, dropInbound: 0.1, dropOutbound: 0.1, delayMs: 5, jitterMs: 5, duplicate: 0.1, reorder: 0.1 };
  const busyLink = { ...NO_LINK_IMPAIRMENT, seed: 9, loss: 0.1, burstLength: 2, delayMs: 5, jitterMs: 5, rateKbps: 100 };

  it('clears on "off" or "none" with spaces around, keeping the seed', () => {
    assert.deepEqual(parseSimulationSpec(' none ', busy), { ...NO_SIMULATION, seed: 9 });
    assert.deepEqual(parseLinkSpec(' off ', busyLink), { ...NO_LINK_IMPAIRMENT, seed: 9 });
    assert.deepEqual(parseLinkSpec('none', busyLink), { ...NO_LINK_IMPAIRMENT, seed: 9 });
  });

  it('reads a whole word only, with decimals of any length', () => {
    assert.equal(parseSimulationSpec('loss=2.55%', NO_SIMULATION).dropInbound, 0.0255);
    assert.equal(parseLinkSpec('loss=2.55%', NO_LINK_IMPAIRMENT).loss, 0.0255);
    for (const word of ['1loss=5%', 'loss=5%x']) {
      assert.throws(() => parseSimulationSpec(word, NO_SIMULATION), { code: 'BAD_SETTING', message: /is not a simulation setting/ }, word);
      assert.throws(() => parseLinkSpec(word, NO_LINK_IMPAIRMENT), { code: 'BAD_SETTING', message: /is not a link setting/ }, word);
    }
  });

  it('says where the word it does not know is, and what to write', () => {
    assert.throws(
      () => parseSimulationSpec('loss=5% bogus=1', NO_SIMULATION),
      (error: WorkbenchError) => {
        assert.equal(error.offset, 8);
        assert.match(error.message, /^"bogus=1" is not a simulation setting\.$/);
        assert.match(error.hint, /^Write name=value pairs, e\.g\. ".+", or "off"\.$/);
        return true;
      },
    );
    assert.throws(
      () => parseLinkSpec('loss=5% zzz=5', NO_LINK_IMPAIRMENT),
      (error: WorkbenchError) => {
        assert.equal(error.code, 'BAD_SETTING');
        assert.equal(error.offset, 8);
        assert.match(error.message, /^"zzz=5" is not a link setting\.$/);
        assert.match(error.hint, /^Write name=value pairs, e\.g\. ".+", a preset \(home-wifi, .+\) or "off"\.$/);
        return true;
      },
    );
  });

  it('refuses a chance in ms and a time in %, in any case, saying where and which unit each takes', () => {
    for (const word of ['loss=5ms', 'loss=5MS', 'delay=5%']) {
      assert.throws(
        () => parseSimulationSpec(`seed=1 ${word}`, NO_SIMULATION),
        (error: WorkbenchError) => {
          assert.equal(error.code, 'BAD_SETTING');
          assert.equal(error.offset, 7);
          assert.equal(error.message, `"${word}" has the wrong unit.`);
          assert.equal(error.hint, 'Chances (loss, in, out, dup, reorder) take %, times (delay, jitter) take ms.');
          return true;
        },
      );
    }
    assert.equal(parseSimulationSpec('delay=5MS', NO_SIMULATION).delayMs, 5);
    assert.throws(
      () => parseLinkSpec('seed=1 delay=5%', NO_LINK_IMPAIRMENT),
      (error: WorkbenchError) => {
        assert.equal(error.code, 'BAD_SETTING');
        assert.equal(error.offset, 7);
        assert.equal(error.message, '"delay=5%" has the wrong unit.');
        assert.match(error.hint, /^Chances \(loss, dup, reorder, corrupt\) take %, times \(delay, jitter\) ms, rate kbit or mbit; /);
        return true;
      },
    );
  });

  it('describes a simulation part by part, and none as "no impairment"', () => {
    assert.equal(describeSimulation(NO_SIMULATION), 'no impairment');
    assert.equal(
      describeSimulation({ seed: 42, dropInbound: 0.1, dropOutbound: 0.05, delayMs: 50, jitterMs: 20, duplicate: 0.01, reorder: 0.02 }),
      '10% lost in, 5% of replies lost, 50 ms + up to 20 ms jitter, 1% duplicated, 2% reordered (seed 42)',
    );
    assert.equal(describeSimulation({ ...NO_SIMULATION, dropOutbound: 0.05 }), '5% of replies lost (seed 1)');
    assert.equal(describeSimulation({ ...NO_SIMULATION, delayMs: 50 }), '50 ms delay (seed 1)');
    assert.equal(describeSimulation({ ...NO_SIMULATION, jitterMs: 20 }), '0 ms + up to 20 ms jitter (seed 1)');
    assert.equal(describeSimulation({ ...NO_SIMULATION, duplicate: 0.01 }), '1% duplicated (seed 1)');
    assert.equal(describeSimulation({ ...NO_SIMULATION, reorder: 0.02 }), '2% reordered (seed 1)');
  });

  it('describes a link part by part, Mbit/s from 1000 kbit/s, and none as "no impairment"', () => {
    assert.equal(describeLink(NO_LINK_IMPAIRMENT), 'no impairment');
    assert.equal(
      describeLink({
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
      }),
      '5% lost in bursts of 3, 80 ms + up to 30 ms jitter, 1% duplicated, 2% reordered, 0.1% corrupted, 2 Mbit/s (queue 50) (seed 42)',
    );
    assert.equal(describeLink({ ...NO_LINK_IMPAIRMENT, loss: 0.05 }), '5% lost (seed 1)');
    assert.equal(describeLink({ ...NO_LINK_IMPAIRMENT, delayMs: 80 }), '80 ms delay (seed 1)');
    assert.equal(describeLink({ ...NO_LINK_IMPAIRMENT, jitterMs: 30 }), '0 ms + up to 30 ms jitter (seed 1)');
    assert.equal(describeLink({ ...NO_LINK_IMPAIRMENT, rateKbps: 1000 }), '1 Mbit/s (queue 100) (seed 1)');
    assert.equal(describeLink({ ...NO_LINK_IMPAIRMENT, rateKbps: 999 }), '999 kbit/s (queue 100) (seed 1)');
  });
});
