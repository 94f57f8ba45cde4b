import * as assert from 'node:assert/strict';
import { DEFAULT_RATE_LIMIT, PeerRateLimiter } from '../../src/core/rateLimit';

const PEER = '203.0.113.7';

function allowed(limiter: PeerRateLimiter, address: string, nowMs: number, times: number): number {
  let count = 0;
  for (let i = 0; i < times; i++) if (limiter.allow(address, nowMs)) count++;
  return count;
}

describe('PeerRateLimiter', () => {
  it('lets a burst through, then refuses', () => {
    const limiter = new PeerRateLimiter({ perSecond: 10, burst: 3, exemptLoopback: false });
    assert.equal(allowed(limiter, PEER, 0, 5), 3);
  });

  it('refills at perSecond, up to the burst', () => {
    const limiter = new PeerRateLimiter({ perSecond: 10, burst: 3, exemptLoopback: false });
    allowed(limiter, PEER, 0, 3);
    assert.equal(allowed(limiter, PEER, 100, 5), 1);
    assert.equal(allowed(limiter, PEER, 350, 5), 2);
    assert.equal(allowed(limiter, PEER, 60_000, 10), 3);
  });

  it('keeps a bucket per address', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 2, exemptLoopback: false });
    assert.equal(allowed(limiter, PEER, 0, 5), 2);
    assert.equal(allowed(limiter, '2001:db8::1', 0, 5), 2);
    assert.equal(limiter.peers, 2);
  });

  it('exempts loopback peers when asked', () => {
    const exempt = new PeerRateLimiter({ perSecond: 1, burst: 1, exemptLoopback: true });
    for (const address of ['127.0.0.1', '127.9.9.9', '::1']) assert.equal(allowed(exempt, address, 0, 100), 100);
    assert.equal(allowed(exempt, PEER, 0, 100), 1);
    assert.equal(exempt.peers, 1);
    const strict = new PeerRateLimiter({ perSecond: 1, burst: 1, exemptLoopback: false });
    assert.equal(allowed(strict, '127.0.0.1', 0, 100), 1);
  });

  it('remembers at most maxPeers addresses, forgetting the least recently seen', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 1, exemptLoopback: false, maxPeers: 3 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(limiter.allow(address, 0), true);
    assert.equal(limiter.allow('10.0.0.1', 0), false, 'seen again, so now the most recent');
    assert.equal(limiter.allow('10.0.0.4', 0), true, 'a new peer pushes out 10.0.0.2');
    assert.equal(limiter.peers, 3);
    assert.equal(limiter.allow('10.0.0.1', 0), false, 'still remembered');
    assert.equal(limiter.allow('10.0.0.2', 0), true, 'forgotten, so it starts with a full bucket');
    for (let i = 0; i < 1000; i++) limiter.allow(`10.1.${i >> 8}.${i & 255}`, i);
    assert.equal(limiter.peers, 3);
  });

  it('is not blocked by a clock that jumps back', () => {
    const limiter = new PeerRateLimiter({ perSecond: 10, burst: 1, exemptLoopback: false });
    assert.equal(limiter.allow(PEER, 1_000_000), true);
    assert.equal(limiter.allow(PEER, 0), false);
    assert.equal(limiter.allow(PEER, 100), true);
  });

  it('defaults to 1000 a second, bursts of 2000, loopback exempt, 10,000 peers', () => {
    assert.deepEqual(DEFAULT_RATE_LIMIT, { perSecond: 1000, burst: 2000, exemptLoopback: true, maxPeers: 10_000 });
    assert.equal(allowed(new PeerRateLimiter(DEFAULT_RATE_LIMIT), PEER, 0, 2500), 2000);
  });

  it('rejects settings that would block everything or grow without bound', () => {
    for (const settings of [
      { perSecond: 0, burst: 1 },
      { perSecond: Number.POSITIVE_INFINITY, burst: 1 },
      { perSecond: 1, burst: 0.5 },
      { perSecond: 1, burst: 1, maxPeers: 0 },
      { perSecond: 1, burst: 1, maxPeers: 1.5 },
    ]) {
      assert.throws(() => new PeerRateLimiter({ exemptLoopback: true, ...settings }), { code: 'BAD_SETTING' }, JSON.stringify(settings));
    }
  });
});
