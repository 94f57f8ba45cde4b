/**
 * Every bound a user can meet, in one place: the `.udp` parser marks a header outside them as you type, the client
 * and the echo server refuse them, and package.json's settings schema states them (a unit test holds it equal to
 * SETTING_LIMITS), so a value the editor accepts is never one a send or a start rejects. The largest datagram
 * depends on the address family, so it stays beside the family in endpoint.ts (MAX_DATAGRAM_BYTES).
 */

export const BURST_LIMITS = {
  minCount: 1,
  maxCount: 1_000_000,
  /** Datagrams per second. */
  minRate: 0.001,
  maxRate: 1_000_000,
} as const;

/** One datagram and its retries. */
export const SEND_LIMITS = {
  minTimeoutMs: 1,
  maxTimeoutMs: 600_000,
  minRetries: 0,
  maxRetries: 20,
  /** Each retry waits this many times longer than the one before. */
  minBackoff: 1,
  maxBackoff: 10,
} as const;

export const SIMULATION_LIMITS = {
  /** For the delay and for the jitter, each. */
  maxDelayMs: 60_000,
  /** Chances are percentages in the settings and fractions of 1 in the core. */
  maxPercent: 100,
} as const;

export const SERVER_LIMITS = {
  maxPort: 65_535,
  /** Half of the largest int: Linux doubles the size it is given. */
  maxBufferBytes: 1_073_741_823,
  maxRateLimitPerSecond: 1_000_000,
  minRateLimitBurst: 1,
  maxRateLimitBurst: 1_000_000,
} as const;

export const LOG_LIMITS = {
  minPreviewBytes: 16,
  maxPreviewBytes: 65_536,
} as const;

export const CAPTURE_LIMITS = {
  minBufferSize: 1,
  maxBufferSize: 1_000_000,
} as const;

/** A proxy's link (per direction), beyond the simulation's chances and delays. */
export const LINK_LIMITS = {
  /** 100 bit/s: slower, a full queue of large datagrams would wait for weeks; 0 (no limit) is allowed too. */
  minRateKbps: 0.1,
  /** 10 Gbit/s: beyond it a limit limits nothing a proxy in the editor can forward. */
  maxRateKbps: 10_000_000,
  maxQueueLimit: 100_000,
  /** A mean burst this long already means "the link is down for a while". */
  maxBurstLength: 1000,
} as const;

/** The impairment proxy: how long a quiet session lives, and how many clients one proxy serves at once. */
export const PROXY_LIMITS = {
  maxIdleTimeoutMs: 24 * 60 * 60 * 1000,
  /** Each session holds a socket (a file descriptor): beyond this the process runs out of them first. */
  maxSessions: 65_536,
  /** The share of the sessions kept for clients on this machine: those on other machines may hold the rest. */
  loopbackShare: 1 / 8,
  /** The share of the sessions one address on another machine (or one IPv6 /64) may hold; at least one. */
  addressShare: 1 / 4,
} as const;

/** Sends to a multicast group or a broadcast address, and servers that join groups. */
export const TRAFFIC_LIMITS = {
  /** Characters of the traffic view's filter: every datagram held is tested against it, each time it changes. */
  maxFilterLength: 1000,
} as const;

export const GROUP_LIMITS = {
  /** Hops a datagram to a group may take: the IP header has 8 bits for it. 0 keeps it on this machine. */
  maxTtl: 255,
  /** Replies a send to a group keeps and reports one by one; more are only counted. */
  maxReplies: 1000,
  /** Distinct repliers (address and port) a send to a group tells apart; replies from further ones are only counted. */
  maxPeers: 1024,
  /** Groups one server joins at once (Linux allows 20 per socket by default). */
  maxGroups: 20,
} as const;

export interface SettingRange {
  readonly minimum: number;
  readonly maximum: number;
}

/** The `minimum` and `maximum` of each bounded setting in package.json, by key below `udpWorkbench.`. */
export const SETTING_LIMITS: { readonly [key: string]: SettingRange } = {
  'server.port': { minimum: 0, maximum: SERVER_LIMITS.maxPort },
  'server.rateLimitPerSecond': { minimum: 0, maximum: SERVER_LIMITS.maxRateLimitPerSecond },
  'server.rateLimitBurst': { minimum: SERVER_LIMITS.minRateLimitBurst, maximum: SERVER_LIMITS.maxRateLimitBurst },
  'server.recvBufferSize': { minimum: 0, maximum: SERVER_LIMITS.maxBufferBytes },
  'server.sendBufferSize': { minimum: 0, maximum: SERVER_LIMITS.maxBufferBytes },
  'simulation.dropInboundPercent': { minimum: 0, maximum: SIMULATION_LIMITS.maxPercent },
  'simulation.dropOutboundPercent': { minimum: 0, maximum: SIMULATION_LIMITS.maxPercent },
  'simulation.delayMs': { minimum: 0, maximum: SIMULATION_LIMITS.maxDelayMs },
  'simulation.jitterMs': { minimum: 0, maximum: SIMULATION_LIMITS.maxDelayMs },
  'simulation.duplicatePercent': { minimum: 0, maximum: SIMULATION_LIMITS.maxPercent },
  'simulation.reorderPercent': { minimum: 0, maximum: SIMULATION_LIMITS.maxPercent },
  'send.timeoutMs': { minimum: SEND_LIMITS.minTimeoutMs, maximum: SEND_LIMITS.maxTimeoutMs },
  'send.retries': { minimum: SEND_LIMITS.minRetries, maximum: SEND_LIMITS.maxRetries },
  'send.backoff': { minimum: SEND_LIMITS.minBackoff, maximum: SEND_LIMITS.maxBackoff },
  'send.multicastTtl': { minimum: 0, maximum: GROUP_LIMITS.maxTtl },
  'log.previewBytes': { minimum: LOG_LIMITS.minPreviewBytes, maximum: LOG_LIMITS.maxPreviewBytes },
  'capture.bufferSize': { minimum: CAPTURE_LIMITS.minBufferSize, maximum: CAPTURE_LIMITS.maxBufferSize },
  'proxy.idleTimeoutSeconds': { minimum: 1, maximum: PROXY_LIMITS.maxIdleTimeoutMs / 1000 },
  'proxy.maxSessions': { minimum: 1, maximum: PROXY_LIMITS.maxSessions },
};
