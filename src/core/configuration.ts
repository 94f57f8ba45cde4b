// What servers, group listeners and proxies are set to: the shapes their events carry and the settings fill in.
// They sit beneath every wing, so events can name them without importing the modules that act on them.

/** mirror: the same bytes back; template: the filled-in template; none: listen only. */
export type ReplyMode = 'mirror' | 'template' | 'none';

export interface ServerProtection {
  /** false: no per-peer rate limit. */
  readonly rateLimit: RateLimitSettings | false;
  /** Replies to other machines may be larger than their request. */
  readonly allowAmplification: boolean;
}

/** What the echo server does to traffic on purpose. Chances are probabilities in [0, 1]; times are in ms. */
export interface SimulationSettings {
  readonly seed: number;
  /** Chance a received datagram is dropped before any reply. */
  readonly dropInbound: number;
  /** Chance a reply is dropped instead of sent. */
  readonly dropOutbound: number;
  readonly delayMs: number;
  /** Extra delay drawn uniformly from 0 to jitterMs (whole ms). */
  readonly jitterMs: number;
  /** Chance a reply is sent twice. */
  readonly duplicate: number;
  /** Chance a reply is held back long enough for later replies to overtake it. */
  readonly reorder: number;
}

/**
 * What a proxy does to one direction of traffic, on purpose: the echo server's impairments plus what tc-netem has
 * and games meet. Chances are probabilities in [0, 1]; times are in ms.
 */
export interface LinkSettings {
  readonly seed: number;
  /** Share of datagrams lost, in the long run. */
  readonly loss: number;
  /** Mean number of datagrams lost in a row (Gilbert–Elliott); 0: each loss is independent of the last. */
  readonly burstLength: number;
  readonly delayMs: number;
  /** Extra delay drawn uniformly from 0 to jitterMs (whole ms). */
  readonly jitterMs: number;
  readonly duplicate: number;
  /** Chance a datagram is held back long enough for later ones to overtake it. */
  readonly reorder: number;
  /** Chance one random bit of a datagram is flipped. */
  readonly corrupt: number;
  /** Bandwidth in kilobits per second; 0: unlimited. */
  readonly rateKbps: number;
  /** Datagrams that may wait for the bandwidth at once; more are dropped as 'queue-full'. */
  readonly queueLimit: number;
}

/** The per-peer token buckets of rateLimit.ts. */
export interface RateLimitSettings {
  /** Datagrams each peer may send per second, on average. */
  readonly perSecond: number;
  /** Datagrams a quiet peer may send at once. */
  readonly burst: number;
  /** Never limit loopback peers: local tools and tests are trusted. */
  readonly exemptLoopback: boolean;
  /**
   * Peers remembered at once. A new peer takes the place of a bucket that has refilled completely (forgetting it
   * changes nothing); when none has, the new peers share one bucket until one does.
   */
  readonly maxPeers?: number;
}

/** One group a server listens on. */
export interface GroupMembership {
  /** `239.1.2.3`, `ff02::1234%lo` (the zone names the interface). */
  readonly group: string;
  /** Name or address of the interface to join on; default: the zone, or the system's choice. */
  readonly interface?: string;
  /** Source-specific membership: only datagrams from this address are delivered. */
  readonly source?: string;
}
