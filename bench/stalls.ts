import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';

const TICK_MS = 5;

export interface Stalls {
  /** The longest event-loop delay perf_hooks saw, ms. */
  readonly maxDelayMs: number;
  /** The longest time between two ticks of a 5 ms interval timer, ms (5 when nothing blocked it). */
  readonly maxTimerGapMs: number;
  /**
   * CPU time this process used during that gap, ms: near the gap when our code held the loop, far below it when
   * the process was waiting for a core (a machine with more runnable processes than cores).
   */
  readonly cpuInLargestGapMs: number;
  /** The most CPU time this process used between two ticks: how long its own work held the loop, whatever the machine's load. */
  readonly mostCpuBetweenTicksMs: number;
  readonly ticks: number;
}

/**
 * Watches this process's event loop for blocks, two ways: perf_hooks' delay histogram (1 ms resolution) and the
 * largest gap between ticks of a 5 ms timer, which is what a user would feel as a frozen editor.
 */
export class StallWatch {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 1 });
  private readonly timer: NodeJS.Timeout;
  private lastTick = performance.now();
  private lastCpu = cpuMs();
  private maxGap = 0;
  private cpuInMaxGap = 0;
  private mostCpu = 0;
  private ticks = 0;

  constructor() {
    this.histogram.enable();
    this.timer = setInterval(() => {
      this.measure();
      this.ticks++;
    }, TICK_MS);
    this.timer.unref();
  }

  /** The largest stalls since the last reset, the wait since the last tick included: a block until now shows too. */
  read(): Stalls {
    this.measure();
    return {
      maxDelayMs: this.histogram.max / 1e6,
      maxTimerGapMs: this.maxGap,
      cpuInLargestGapMs: this.cpuInMaxGap,
      mostCpuBetweenTicksMs: this.mostCpu,
      ticks: this.ticks,
    };
  }

  reset(): void {
    this.histogram.reset();
    this.maxGap = 0;
    this.cpuInMaxGap = 0;
    this.mostCpu = 0;
    this.ticks = 0;
    this.lastTick = performance.now();
    this.lastCpu = cpuMs();
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private measure(): void {
    const now = performance.now();
    const cpu = cpuMs();
    this.mostCpu = Math.max(this.mostCpu, cpu - this.lastCpu);
    if (now - this.lastTick > this.maxGap) {
      this.maxGap = now - this.lastTick;
      this.cpuInMaxGap = cpu - this.lastCpu;
    }
    this.lastTick = now;
    this.lastCpu = cpu;
  }
}

/** The stalls while `run` runs. */
export async function watchStalls(run: () => Promise<unknown>): Promise<Stalls> {
  const watch = new StallWatch();
  try {
    await run();
    return watch.read();
  } finally {
    watch.stop();
  }
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}
