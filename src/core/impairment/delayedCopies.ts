/** A copy of a datagram that leaves now (0) or after its simulated delay, in ms. */
export interface DelayedCopy {
  readonly delayMs: number;
}

/** Beyond either limit a datagram that would wait for a simulated delay is dropped (an echo server's 'delay-queue-full'). */
export interface DelayQueueLimits {
  /** Datagrams that wait at once. */
  readonly maxReplies: number;
  /** Bytes of those datagrams. */
  readonly maxBytes: number;
}

/** A full queue holds at most 16 MB of datagrams plus ~1 KB of bookkeeping each: bounded, whatever the delay and the flood. */
export const DEFAULT_DELAY_QUEUE: DelayQueueLimits = Object.freeze({ maxReplies: 10_000, maxBytes: 16 * 1024 * 1024 });

/** setTimeout's longest wait (2^31 − 1 ms, ~24.8 days): Node fires a longer one after 1 ms, with a TimeoutOverflowWarning. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The places in a delay queue: what waits for its delay at once, in datagrams and bytes, never beyond its limits. */
export class DelayQueueRoom {
  private datagrams = 0;
  private bytes = 0;

  constructor(private readonly limits: DelayQueueLimits) {}

  /** Takes a place for a datagram of `bytes`, or says there is none. */
  take(bytes: number): boolean {
    if (this.datagrams >= this.limits.maxReplies || this.bytes + bytes > this.limits.maxBytes) return false;
    this.datagrams++;
    this.bytes += bytes;
    return true;
  }

  /** Gives back a place `take` gave, once its datagram has left or was cancelled. */
  release(bytes: number): void {
    this.datagrams--;
    this.bytes -= bytes;
  }
}

/**
 * The copies of datagrams that wait for their simulated delay, for an echo server's replies and a proxy's forwards
 * alike: each leaves when its delay is over, and on stop every one still waiting is cancelled and handed back once.
 */
export class DelayedCopies<T> {
  private readonly waiting = new Map<NodeJS.Timeout, T>();

  /** Sends each copy of `item`: at once when it has no delay, else when its delay is over. */
  send<C extends DelayedCopy>(item: T, copies: readonly C[], send: (item: T, copy: C) => void): void {
    // Without a simulation, every datagram: one copy that leaves now.
    if (copies.length === 1 && copies[0].delayMs === 0) {
      send(item, copies[0]);
      return;
    }
    for (const copy of copies) {
      if (copy.delayMs === 0) send(item, copy);
      else this.wait(item, copy.delayMs, () => send(item, copy));
    }
  }

  /** A wait beyond one timer's reach takes several in a row, so no copy ever leaves early. */
  private wait(item: T, ms: number, then: () => void): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      if (ms > step) this.wait(item, ms - step, then);
      else then();
    }, step);
    this.waiting.set(timer, item);
  }

  /** Cancels every copy still waiting; `cancelled` hears of each copy, so an item with two waiting copies twice. */
  cancelAll(cancelled: (item: T) => void): void {
    this.cancel(() => true, cancelled);
  }

  /** Cancels the waiting copies of the items `which` picks, as cancelAll does. */
  cancel(which: (item: T) => boolean, cancelled: (item: T) => void): void {
    for (const [timer, item] of this.waiting) {
      if (!which(item)) continue;
      clearTimeout(timer);
      this.waiting.delete(timer);
      cancelled(item);
    }
  }
}
