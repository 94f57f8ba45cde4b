import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

const TICK_MS = 5;

export interface Stalls {
  /** The longest event-loop delay perf_hooks saw, ms. */
  readonly maxDelayMs: number;
  /** The longest time between two ticks of a 5 ms interval timer, ms (5 when nothing blocked it). */
  readonly maxTimerGapMs: number;
}

/**
 * Watches this process's event loop for blocks, two ways: perf_hooks' delay histogram (1 ms resolution) and the
 * largest gap between ticks of a 5 ms timer, which is what a user would feel as a frozen editor.
 */
export class StallWatch {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();
  private maxGap = 0;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.maxGap = Math.max(this.maxGap, now - this.lastTick);
      this.lastTick = now;
    }, TICK_MS);
    this.timer.unref();
  }

  /** The largest stalls since the last reset. */
  read(): Stalls {
    return { maxDelayMs: this.histogram.max / 1e6, maxTimerGapMs: this.maxGap };
  }

  reset(): void {
    this.histogram.reset();
    this.maxGap = 0;
    this.lastTick = performance.now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
