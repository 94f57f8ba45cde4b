/**
 * The bounds of a burst, in one place: the `.udp` parser marks a header outside them as you type, and sendBurst
 * refuses them, so a value the editor accepts is never one the send rejects.
 */
export const BURST_LIMITS = {
  minCount: 1,
  maxCount: 1_000_000,
  /** Datagrams per second. */
  minRate: 0.001,
  maxRate: 1_000_000,
} as const;
