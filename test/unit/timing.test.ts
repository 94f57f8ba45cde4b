import * as assert from 'node:assert/strict';
import { Coalescer, Debouncer } from '../../src/core/timing';
import { FakeClock } from './fakeClock';

describe('Coalescer', () => {
  it('runs once per wait however many requests come during it, then waits anew', () => {
    const clock = new FakeClock();
    let runs = 0;
    const coalescer = new Coalescer(() => runs++, 250, clock);
    for (let n = 0; n < 1000; n++) coalescer.request();
    clock.tick(249);
    assert.equal(runs, 0);
    coalescer.request();
    clock.tick(1);
    assert.equal(runs, 1);
    assert.equal(coalescer.waiting, false);
    coalescer.request();
    clock.tick(250);
    assert.equal(runs, 2);
  });

  it('reads a changing delay at each new wait', () => {
    const clock = new FakeClock();
    let delayMs = 100;
    let runs = 0;
    const coalescer = new Coalescer(
      () => runs++,
      () => delayMs,
      clock,
    );
    coalescer.request();
    delayMs = 1000;
    clock.tick(100);
    assert.equal(runs, 1);
    coalescer.request();
    clock.tick(999);
    assert.equal(runs, 1);
    clock.tick(1);
    assert.equal(runs, 2);
  });

  it('does not run a cancelled wait, and may be requested again after', () => {
    const clock = new FakeClock();
    let runs = 0;
    const coalescer = new Coalescer(() => runs++, 250, clock);
    coalescer.request();
    coalescer.cancel();
    assert.equal(clock.pending, 0);
    clock.tick(1000);
    assert.equal(runs, 0);
    coalescer.request();
    clock.tick(250);
    assert.equal(runs, 1);
  });

  it('accepts a request from its own task: the next wait starts then', () => {
    const clock = new FakeClock();
    const at: number[] = [];
    const coalescer = new Coalescer(() => at.push(clock.now) < 3 && coalescer.request(), 10, clock);
    coalescer.request();
    clock.tick(100);
    assert.deepEqual(at, [10, 20, 30]);
    assert.equal(clock.pending, 0);
  });
});

describe('Debouncer', () => {
  it('runs a key once the requests for it pause, each request restarting its wait', () => {
    const clock = new FakeClock();
    const runs: Array<[string, number]> = [];
    const debouncer = new Debouncer<string>((key) => runs.push([key, clock.now]), 250, clock);
    for (let n = 0; n < 5; n++) {
      debouncer.request('a.udp');
      clock.tick(200);
    }
    assert.deepEqual(runs, []);
    clock.tick(50);
    assert.deepEqual(runs, [['a.udp', 1050]]);
  });

  it('keeps each key to its own wait', () => {
    const clock = new FakeClock();
    const runs: string[] = [];
    const debouncer = new Debouncer<string>((key) => runs.push(key), 250, clock);
    debouncer.request('a.udp');
    clock.tick(100);
    debouncer.request('b.udp');
    debouncer.cancel('a.udp');
    clock.tick(250);
    assert.deepEqual(runs, ['b.udp']);
  });

  it('does not leak timers past disposal', () => {
    const clock = new FakeClock();
    let runs = 0;
    const debouncer = new Debouncer<string>(() => runs++, 250, clock);
    debouncer.request('a.udp');
    debouncer.request('b.udp');
    assert.equal(clock.pending, 2);
    debouncer.dispose();
    assert.equal(clock.pending, 0);
    clock.tick(1000);
    assert.equal(runs, 0);
  });
});
