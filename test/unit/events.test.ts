import * as assert from 'node:assert/strict';
import { EventStream, familyNumber, peerOf } from '../../src/core/events';

describe('EventStream', () => {
  it('tells its owner what a listener threw, and still calls the other listeners', () => {
    const stream = new EventStream<number>();
    const thrown: unknown[] = [];
    const seen: number[] = [];
    stream.onListenerError = (error) => thrown.push(error);
    const broken = new Error('broken view');
    stream.subscribe(() => {
      throw broken;
    });
    stream.subscribe((n) => seen.push(n));
    stream.emit(1);
    stream.emit(2);
    assert.deepEqual(thrown, [broken, broken]);
    assert.deepEqual(seen, [1, 2]);
  });

  it('keeps emitting when nobody listens for listener errors', () => {
    const stream = new EventStream<number>();
    const seen: number[] = [];
    stream.subscribe(() => {
      throw new Error('broken view');
    });
    stream.subscribe((n) => seen.push(n));
    stream.emit(7);
    assert.deepEqual(seen, [7]);
  });

  it('calls a listener subscribed twice once, and no more once its subscription is disposed', () => {
    const stream = new EventStream<number>();
    const seen: number[] = [];
    const listener = (n: number): number => seen.push(n);
    const first = stream.subscribe(listener);
    stream.subscribe(listener);
    stream.emit(1);
    first.dispose();
    stream.emit(2);
    assert.deepEqual(seen, [1]);
  });

  it('does not call a listener that another unsubscribed during the same event', () => {
    const stream = new EventStream<string>();
    const seen: string[] = [];
    const later: Array<{ dispose(): void }> = [];
    stream.subscribe((event) => {
      seen.push(`first ${event}`);
      later.forEach((subscription) => subscription.dispose());
    });
    later.push(stream.subscribe((event) => seen.push(`second ${event}`)));
    const third = stream.subscribe((event) => seen.push(`third ${event}`));
    stream.emit('a');
    stream.emit('b');
    third.dispose();
    stream.emit('c');
    assert.deepEqual(seen, ['first a', 'third a', 'first b', 'third b', 'first c']);
  });
});

describe('peerOf', () => {
  it('reads the family as a socket names it (IPv4/IPv6) or as dns does (4/6)', () => {
    assert.deepEqual(peerOf({ address: '::1', port: 9, family: 'IPv6' }), { address: '::1', port: 9, family: 'IPv6' });
    assert.deepEqual(peerOf({ address: '::1', port: 9, family: 6 }), { address: '::1', port: 9, family: 'IPv6' });
    assert.deepEqual(peerOf({ address: '127.0.0.1', port: 9, family: 'IPv4' }), { address: '127.0.0.1', port: 9, family: 'IPv4' });
    assert.deepEqual(peerOf({ address: '127.0.0.1', port: 9, family: 4 }), { address: '127.0.0.1', port: 9, family: 'IPv4' });
  });

  it('numbers the family back: familyNumber(peerOf(x)) is what dns said', () => {
    assert.equal(familyNumber(peerOf({ address: '::1', port: 9, family: 6 })), 6);
    assert.equal(familyNumber(peerOf({ address: '127.0.0.1', port: 9, family: 4 })), 4);
  });
});
