/**
 * Work that waits: a redraw or a log flush coalesced to a few a second, a check debounced while someone types.
 * The wait goes through a Clock, so a test can move time itself instead of sleeping.
 */

/** Node turns longer timer delays into 1 ms; a long backoff waits this long instead. */
const MAX_TIMER_MS = 2_147_483_647;

/** How long attempt `attempt` (1 for the first) of a send waits for its reply: each retry `backoff` times longer. */
export function attemptWaitMs(timeoutMs: number, backoff: number, attempt: number): number {
  return Math.min(timeoutMs * backoff ** (attempt - 1), MAX_TIMER_MS);
}

/** A wait that can be called off; calling it off after it ran, or twice, does nothing. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  setTimeout(callback: () => void, ms: number): Timer;
}

export const SYSTEM_CLOCK: Clock = {
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Runs a task at most once per wait: the first request starts the wait, the requests made before it ends join it.
 * `delayMs` may be a function, read at each new wait, for a setting that can change.
 */
export class Coalescer {
  private timer: Timer | undefined;

  constructor(
    private readonly task: () => void,
    private readonly delayMs: number | (() => number),
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {}

  /** Cheap when a run is already waiting: it is called once per datagram. */
  request(): void {
    this.timer ??= this.clock.setTimeout(this.run, typeof this.delayMs === 'number' ? this.delayMs : this.delayMs());
  }

  /** Calls off the waiting run, if any: for a caller that runs the task itself now, or stops. */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  get waiting(): boolean {
    return this.timer !== undefined;
  }

  private readonly run = (): void => {
    this.timer = undefined;
    this.task();
  };
}

/** Runs `task(key)` once `delayMs` pass without another request for that key: each request restarts its wait. */
export class Debouncer<K> {
  private readonly timers = new Map<K, Timer>();

  constructor(
    private readonly task: (key: K) => void,
    private readonly delayMs: number,
    private readonly clock: Clock = SYSTEM_CLOCK,
  ) {}

  request(key: K): void {
    this.cancel(key);
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        this.task(key);
      }, this.delayMs),
    );
  }

  cancel(key: K): void {
    this.timers.get(key)?.cancel();
    this.timers.delete(key);
  }

  /** Calls off every waiting run. */
  dispose(): void {
    for (const timer of this.timers.values()) timer.cancel();
    this.timers.clear();
  }
}
