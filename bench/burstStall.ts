import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { sendBurst, type BurstResult } from '../src/core/client';
import { ServerUnderTest } from './servers';

export interface LoopStall {
  /** perf_hooks.monitorEventLoopDelay's largest delay, ms. */
  readonly maxDelayMs: number;
  /** The largest gap between two ticks of a 5 ms interval timer, ms. */
  readonly largestTimerGapMs: number;
  /**
   * CPU time this process used during that gap, ms: near the gap when our code held the loop, far below it when
   * the process was waiting for a core (a machine with more runnable processes than cores).
   */
  readonly cpuInLargestGapMs: number;
  /** The most CPU time this process used between two ticks: how long its own work held the loop, whatever the machine's load. */
  readonly mostCpuBetweenTicksMs: number;
  readonly ticks: number;
}

export interface BurstStall {
  /** The same figures while the process idles, for a moment as long as IDLE_MS: what the machine alone costs. */
  readonly idle: LoopStall;
  readonly during: LoopStall;
  readonly burst: BurstResult;
  readonly wallMs: number;
}

const TICK_MS = 5;
const IDLE_MS = 1000;

/**
 * How long the event loop of the process that sends a burst is blocked: the burst goes from this process (as it does
 * from the extension host) to our echo server in its own process, on loopback. The deadline cancels a burst that
 * cannot finish in time; the figures are then those of the part that ran.
 */
export async function burstStall(count: number, ratePerSecond: number, deadlineMs: number): Promise<BurstStall> {
  const server = await ServerUnderTest.start({ kind: 'ours' });
  try {
    const idle = await watchLoop(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
    const started = performance.now();
    let burst: BurstResult | undefined;
    const during = await watchLoop(async () => {
      burst = await sendBurst({
        target: { host: '127.0.0.1', port: server.port },
        payload: Buffer.alloc(64, 0x61),
        count,
        ratePerSecond,
        timeoutMs: 200,
        signal: AbortSignal.timeout(deadlineMs),
      });
    });
    return { idle, during, burst: burst!, wallMs: performance.now() - started };
  } finally {
    await server.stop();
  }
}

async function watchLoop(run: () => Promise<unknown>): Promise<LoopStall> {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  const cpuMs = (): number => {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  };
  let last = performance.now();
  let lastCpu = cpuMs();
  let largestTimerGapMs = 0;
  let cpuInLargestGapMs = 0;
  let mostCpuBetweenTicksMs = 0;
  let ticks = 0;
  const tick = (): void => {
    const now = performance.now();
    const cpu = cpuMs();
    mostCpuBetweenTicksMs = Math.max(mostCpuBetweenTicksMs, cpu - lastCpu);
    if (now - last > largestTimerGapMs) {
      largestTimerGapMs = now - last;
      cpuInLargestGapMs = cpu - lastCpu;
    }
    last = now;
    lastCpu = cpu;
  };
  const interval = setInterval(() => {
    tick();
    ticks++;
  }, TICK_MS);
  delay.enable();
  try {
    await run();
  } finally {
    delay.disable();
    clearInterval(interval);
  }
  // The wait from the last tick to the end counts too: a burst that blocked until it ended shows up here.
  tick();
  return { maxDelayMs: delay.max / 1e6, largestTimerGapMs, cpuInLargestGapMs, mostCpuBetweenTicksMs, ticks };
}
