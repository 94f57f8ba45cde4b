import { isLoopback } from './endpoint';
import { badSetting, WorkbenchError } from './errors';

/** A token bucket per peer address, like DNS response rate limiting: it keeps a spoofed flood from turning the server into a weapon. */
export interface RateLimitSettings {
  /** Datagrams each address may send per second, on average. */
  readonly perSecond: number;
  /** Datagrams a quiet address may send at once. */
  readonly burst: number;
  /** Never limit loopback peers: local tools and tests are trusted. */
  readonly exemptLoopback: boolean;
  /** Addresses remembered at once; beyond it the least recently seen are forgotten. */
  readonly maxPeers?: number;
}

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

export class PeerRateLimiter {
  /** Least recently seen first, so the first key is the one to forget. */
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly burst: number;
  readonly exemptLoopback: boolean;
  private readonly maxPeers: number;

  constructor(settings: RateLimitSettings) {
    const { perSecond, burst, exemptLoopback, maxPeers = DEFAULT_RATE_LIMIT.maxPeers! } = settings;
    if (!(perSecond > 0 && Number.isFinite(perSecond))) throw badRateLimit('perSecond', perSecond, 'a number above 0');
    if (!(burst >= 1 && Number.isFinite(burst))) throw badRateLimit('burst', burst, 'a number from 1 up');
    if (!(Number.isSafeInteger(maxPeers) && maxPeers >= 1)) throw badRateLimit('maxPeers', maxPeers, 'a whole number from 1 up');
    this.perMs = perSecond / 1000;
    this.burst = burst;
    this.exemptLoopback = exemptLoopback;
    this.maxPeers = maxPeers;
  }

  /** Takes a token from the address's bucket; false when it has none left. */
  allow(address: string, nowMs: number): boolean {
    if (this.exemptLoopback && isLoopback(address)) return true;
    let bucket = this.buckets.get(address);
    if (bucket === undefined) {
      if (this.buckets.size >= this.maxPeers) this.buckets.delete(this.buckets.keys().next().value!);
      bucket = { tokens: this.burst, at: nowMs };
    } else {
      this.buckets.delete(address);
      const elapsed = nowMs - bucket.at;
      // A clock that jumps back refills nothing, and cannot block a peer until it catches up.
      if (elapsed > 0) bucket.tokens = Math.min(this.burst, bucket.tokens + elapsed * this.perMs);
      bucket.at = nowMs;
    }
    this.buckets.set(address, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Addresses currently remembered. */
  get peers(): number {
    return this.buckets.size;
  }
}

function badRateLimit(field: string, value: unknown, range: string): WorkbenchError {
  return badSetting(`Rate limit setting ${field}`, value, range, 'Correct the rate limit options.');
}
