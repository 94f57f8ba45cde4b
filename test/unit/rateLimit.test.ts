import * as assert from 'node:assert/strict';
import { DEFAULT_RATE_LIMIT, peerKey, PeerRateLimiter } from '../../src/core/net/rateLimit';

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

  it('counts a whole IPv6 /64 as one peer, and each IPv4 address as its own', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 3, exemptLoopback: false });
    // One host usually owns a whole /64: new addresses in it must not bring new bursts.
    const sameNetwork = [
      '2001:db8:1:2::1',
      '2001:db8:1:2::2',
      '2001:DB8:1:2:ffff:ffff:ffff:ffff',
      '2001:db8:1:2:0:0:0:9',
      '2001:db8:1:2::a%eth0',
    ];
    assert.equal(sameNetwork.filter((address) => limiter.allow(address, 0)).length, 3);
    assert.equal(limiter.allow('2001:db8:1:3::1', 0), true, 'the next /64 is another peer');
    assert.equal(allowed(limiter, '10.0.0.1', 0, 2) + allowed(limiter, '10.0.0.2', 0, 2), 4, 'IPv4 addresses are not aggregated');
    // An IPv4 address written as IPv4-mapped IPv6 is that IPv4 peer.
    assert.equal(allowed(limiter, '::ffff:10.0.0.1', 0, 2), 1);
    assert.equal(limiter.peers, 4);
  });

  it('names the bucket of an address', () => {
    assert.equal(peerKey('203.0.113.7'), '203.0.113.7');
    assert.equal(peerKey('2001:db8:0:7:1:2:3:4'), '2001:db8:0:7::/64');
    assert.equal(peerKey('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(peerKey('::'), '0:0:0:0::/64');
    assert.equal(peerKey('::ffff:192.0.2.1'), '192.0.2.1');
    assert.equal(peerKey('64:ff9b::192.0.2.1'), '64:ff9b:0:0::/64');
  });

  it('remembers at most maxPeers peers, and gives a new one the place of a bucket that has refilled', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 1, exemptLoopback: false, maxPeers: 3 });
    for (const address of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(limiter.allow(address, 0), true);
    // At 1500 ms every bucket has refilled: the least recently seen one is forgotten, which changes nothing.
    assert.equal(limiter.allow('10.0.0.4', 1500), true);
    assert.equal(limiter.peers, 3);
    assert.equal(limiter.allow('10.0.0.1', 1500), true, 'forgotten, with the full bucket it would have had anyway');
    for (let i = 0; i < 1000; i++) limiter.allow(`10.1.${i >> 8}.${i & 255}`, 10_000 + i * 2000);
    assert.equal(limiter.peers, 3);
  });

  it('never forgets a drained bucket to make room: a flood from many addresses shares one bucket instead', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 2, exemptLoopback: false, maxPeers: 100 });
    assert.equal(allowed(limiter, PEER, 0, 10), 2, 'the flooding peer drains its bucket');
    // Then 10,000 other addresses, each draining its own bucket, fill the table many times over.
    let sprayed = 0;
    for (let i = 0; i < 10_000; i++) sprayed += allowed(limiter, `198.51.${i >> 8}.${i & 255}`, 1, 2);
    assert.equal(limiter.peers, 100);
    // 99 of them found room (two datagrams each); the other 9,901 shared one bucket of 2.
    assert.equal(sprayed, 99 * 2 + 2);
    assert.equal(limiter.allow(PEER, 2), false, 'the flooding peer was not forgotten, so it got no fresh burst');
  });
  it('gives a new peer the place of a bucket that has just refilled, to the exact token, and of none a moment before', () => {
    // 1 token a millisecond, bursts of 2: a peer that took one token at 1000 ms is full again at exactly 1001 ms.
    const limiter = new PeerRateLimiter({ perSecond: 1000, burst: 2, exemptLoopback: false, maxPeers: 1 });
    assert.equal(limiter.allow('10.0.0.1', 1000), true);
    assert.equal(limiter.allow('10.0.0.2', 1000.5), true, 'the overflow bucket, shared');
    assert.equal(limiter.allow('10.0.0.3', 1000.5), true);
    assert.equal(limiter.allow('10.0.0.4', 1000.5), false, 'the overflow bucket is drained: 10.0.0.1 has not refilled yet');
    assert.equal(limiter.allow('10.0.0.5', 1001), true, '10.0.0.1 refilled at 1001 ms: 10.0.0.5 takes its place, with a burst of its own');
    assert.equal(limiter.allow('10.0.0.5', 1001), true);
    assert.equal(limiter.allow('10.0.0.5', 1001), false);
    assert.equal(limiter.peers, 1);
  });

  it('passes over a draining bucket to forget a refilled one behind it', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 2, exemptLoopback: false, maxPeers: 2 });
    // 10.0.0.1 drains both tokens at 0 (full again at 2 s); 10.0.0.2 takes one at 1 ms (full again at 1.001 s).
    assert.deepEqual([limiter.allow('10.0.0.1', 0), limiter.allow('10.0.0.1', 0), limiter.allow('10.0.0.2', 1)], [true, true, true]);
    assert.equal(limiter.allow('10.0.0.3', 1500), true, 'in the place of 10.0.0.2, with a bucket of its own');
    // Both remembered buckets are draining now: new peers share the overflow bucket, whole.
    assert.deepEqual(
      [limiter.allow('10.0.0.4', 1500), limiter.allow('10.0.0.4', 1500), limiter.allow('10.0.0.4', 1500)],
      [true, true, false],
    );
  });

  it('looks at the 8 least recently seen buckets only, so a datagram costs the same however many peers there are', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 2, exemptLoopback: false, maxPeers: 9 });
    // Eight peers drain their buckets at 0; a ninth, seen last, takes one token at 1 ms and is full again at 1.001 s.
    for (let i = 1; i <= 8; i++) assert.deepEqual([limiter.allow(`10.0.0.${i}`, 0), limiter.allow(`10.0.0.${i}`, 0)], [true, true]);
    assert.equal(limiter.allow('10.0.0.9', 1), true);
    // At 1.5 s the refilled bucket is the ninth least recently seen: not looked at, so new peers share the overflow.
    assert.deepEqual(
      [limiter.allow('10.0.1.1', 1500), limiter.allow('10.0.1.2', 1500), limiter.allow('10.0.1.2', 1500)],
      [true, true, false],
    );
    assert.equal(limiter.peers, 9);
  });

  it('shares the overflow bucket when fewer than 8 peers are remembered and all of them are draining', () => {
    const limiter = new PeerRateLimiter({ perSecond: 1, burst: 1, exemptLoopback: false, maxPeers: 2 });
    assert.equal(limiter.allow('10.0.0.1', 0), true);
    assert.equal(limiter.allow('10.0.0.2', 0), true);
    assert.equal(limiter.allow('10.0.0.3', 0), true, 'the overflow bucket');
    assert.equal(limiter.allow('10.0.0.4', 0), false, 'the overflow bucket, drained');
    assert.equal(limiter.peers, 2);
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
    // Each says which setting, what it was and what it must be.
    assert.throws(() => new PeerRateLimiter({ perSecond: 0, burst: 1, exemptLoopback: true }), {
      message: /^Rate limit setting perSecond is 0; it must be a number above 0\./,
      hint: 'Correct the rate limit options.',
    });
    assert.throws(() => new PeerRateLimiter({ perSecond: 1, burst: 0.5, exemptLoopback: true }), {
      message: /^Rate limit setting burst is 0\.5; it must be a number from 1 up\./,
    });
    assert.throws(() => new PeerRateLimiter({ perSecond: 1, burst: 1, maxPeers: 0, exemptLoopback: true }), {
      message: /^Rate limit setting maxPeers is 0; it must be a whole number from 1 up\./,
    });
    assert.equal(new PeerRateLimiter({ perSecond: 1, burst: 1, maxPeers: 1, exemptLoopback: true }).peers, 0, 'one peer is enough');
  });
});
