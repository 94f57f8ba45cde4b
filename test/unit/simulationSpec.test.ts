import * as assert from 'node:assert/strict';
import { WorkbenchError } from '../../src/core/errors';
import { NO_SIMULATION } from '../../src/core/impairment';
import { describeSimulation, parseSimulationSpec } from '../../src/core/simulationSpec';

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
