import { isIP } from 'node:net';
import { ipv6Groups, isIPv4Mapped, isLoopback, unmapIPv4 } from '../endpoint';
import { badSetting, WorkbenchError } from '../errors';
import type { RateLimitSettings } from '../configuration';

export const DEFAULT_RATE_LIMIT: RateLimitSettings = Object.freeze({
  perSecond: 1000,
  burst: 2000,
  exemptLoopback: true,
  maxPeers: 10_000,
});

interface Bucket {
  tokens: number;
  at: number;
}

/** How many of the least recently seen buckets a new peer looks at for one to replace: O(1) per datagram. */
const REPLACEMENT_CANDIDATES = 8;

/** The bucket an address counts against: an IPv4 address (also written ::ffff:a.b.c.d) alone, an IPv6 address by its /64. */
export function peerKey(address: string): string {
  if (isIP(address) !== 6) return address;
  if (isIPv4Mapped(address)) return unmapIPv4(address);
  const groups = ipv6Groups(address);
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}

/**
 * A token bucket per peer, like DNS response rate limiting: it keeps a spoofed flood from turning the server into a
 * weapon. A peer is an IPv4 address or an IPv6 /64 (one host usually owns a whole /64), see peerKey.
 */
export class PeerRateLimiter {
  /** Least recently seen first, so the first keys are the candidates to forget. */
  private readonly buckets = new Map<string, Bucket>();
  /** Shared by new peers while every remembered bucket still counts something. */
  private readonly overflow: Bucket = { tokens: 0, at: Number.NEGATIVE_INFINITY };
  private perMs = 0;
  private burst = 0;
  private exempt = false;
  private maxPeers = 0;

  constructor(settings: RateLimitSettings) {
    this.retune(settings);
    this.overflow.tokens = this.burst;
  }

  get exemptLoopback(): boolean {
    return this.exempt;
  }

  /**
   * New settings for the peers it already counts: each keeps what it has left (never more than the new burst), so a
   * change of settings hands no peer a fresh burst. Throws BAD_SETTING and changes nothing when a setting is wrong.
   */
  retune(settings: RateLimitSettings): void {
    const { perSecond, burst, exemptLoopback, maxPeers = DEFAULT_RATE_LIMIT.maxPeers! } = settings;
    if (!(perSecond > 0 && Number.isFinite(perSecond))) throw badRateLimit('perSecond', perSecond, 'a number above 0');
    if (!(burst >= 1 && Number.isFinite(burst))) throw badRateLimit('burst', burst, 'a number from 1 up');
    if (!(Number.isSafeInteger(maxPeers) && maxPeers >= 1)) throw badRateLimit('maxPeers', maxPeers, 'a whole number from 1 up');
    this.perMs = perSecond / 1000;
    this.burst = burst;
    this.exempt = exemptLoopback;
    this.maxPeers = maxPeers;
    for (const bucket of [...this.buckets.values(), this.overflow]) bucket.tokens = Math.min(bucket.tokens, burst);
  }

  /** Takes a token from the bucket of the address's peer; false when it has none left. */
  allow(address: string, nowMs: number): boolean {
    if (this.exempt && isLoopback(address)) return true;
    const bucket = this.bucketOf(peerKey(address), nowMs);
    const elapsed = nowMs - bucket.at;
    // A clock that jumps back refills nothing, and cannot block a peer until it catches up.
    if (elapsed > 0) bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.perMs);
    bucket.at = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private bucketOf(key: string, nowMs: number): Bucket {
    const known = this.buckets.get(key);
    if (known !== undefined) {
      // Now the most recently seen.
      this.buckets.delete(key);
      this.buckets.set(key, known);
      return known;
    }
    // Forgetting a drained bucket would hand its peer a fresh burst: a flood from many addresses must not do that.
    if (this.buckets.size >= this.maxPeers && !this.forgetFullBucket(nowMs)) return this.overflow;
    const bucket = { tokens: this.burst, at: nowMs };
    this.buckets.set(key, bucket);
    return bucket;
  }

  /** Forgets one of the least recently seen buckets that has refilled completely; false when none has. */
  private forgetFullBucket(nowMs: number): boolean {
    let looked = 0;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + Math.max(0, nowMs - bucket.at) * this.perMs >= this.burst) {
        this.buckets.delete(key);
        return true;
      }
      if (++looked === REPLACEMENT_CANDIDATES) return false;
    }
    return false;
  }

  /** Peers currently remembered. */
  get peers(): number {
    return this.buckets.size;
  }
}

function badRateLimit(field: string, value: unknown, range: string): WorkbenchError {
  return badSetting(`Rate limit setting ${field}`, value, range, 'Correct the rate limit options.');
}
