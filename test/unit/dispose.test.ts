import * as assert from 'node:assert/strict';
import { Disposable, disposeAll, toDisposable, type DisposableLike } from '../../src/vscode/dispose';

/** Records the order things are disposed in; `fails` makes its dispose throw. */
function child(name: string, order: string[], fails = false): DisposableLike {
  return {
    dispose: () => {
      order.push(name);
      if (fails) throw new Error(`${name} failed`);
    },
  };
}

class Owner extends Disposable {
  register<T extends DisposableLike>(value: T): T {
    return this._register(value);
  }
}

describe('disposeAll', () => {
  it('disposes every one, in order', () => {
    const order: string[] = [];
    disposeAll([child('a', order), child('b', order), child('c', order)]);
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  it('goes on after one throws, then rethrows that error as it is', () => {
    const order: string[] = [];
    assert.throws(() => disposeAll([child('a', order), child('b', order, true), child('c', order)]), /^Error: b failed$/);
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  it('throws an AggregateError holding every error when several throw', () => {
    const order: string[] = [];
    let thrown: unknown;
    try {
      disposeAll([child('a', order, true), child('b', order), child('c', order, true)]);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof AggregateError, `expected an AggregateError, got ${String(thrown)}`);
    assert.deepEqual(
      thrown.errors.map((error: Error) => error.message),
      ['a failed', 'c failed'],
    );
    assert.deepEqual(order, ['a', 'b', 'c']);
  });
});

describe('Disposable', () => {
  it('disposes its children newest first, and only once', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.register(child('first', order));
    owner.register(child('second', order));
    owner.dispose();
    owner.dispose();
    assert.deepEqual(order, ['second', 'first']);
  });

  it('returns what it registers, so a field is created and registered in one line', () => {
    const order: string[] = [];
    const owner = new Owner();
    const registered = child('x', order);
    assert.equal(owner.register(registered), registered);
  });

  it('disposes every child when one throws, and rethrows', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.register(child('a', order));
    owner.register(child('b', order, true));
    owner.register(child('c', order));
    assert.throws(() => owner.dispose(), /b failed/);
    assert.deepEqual(order, ['c', 'b', 'a']);
  });

  it('disposes a child registered after it was disposed at once', () => {
    const order: string[] = [];
    const owner = new Owner();
    owner.dispose();
    owner.register(child('late', order));
    assert.deepEqual(order, ['late']);
  });
});

describe('toDisposable', () => {
  it('runs its function once, however often it is disposed', () => {
    let runs = 0;
    const disposable = toDisposable(() => runs++);
    disposable.dispose();
    disposable.dispose();
    assert.equal(runs, 1);
  });
});
