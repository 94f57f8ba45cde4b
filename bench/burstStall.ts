import { performance } from 'node:perf_hooks';
import { sendBurst, type BurstResult } from '../src/core/client';
import { ServerUnderTest } from './servers';
import { watchStalls, type Stalls } from './stalls';

export interface BurstStall {
  /** The same figures while the process idles, for a moment as long as IDLE_MS: what the machine alone costs. */
  readonly idle: Stalls;
  readonly during: Stalls;
  readonly burst: BurstResult;
  readonly wallMs: number;
}

const IDLE_MS = 1000;

/**
 * How long the event loop of the process that sends a burst is blocked: the burst goes from this process (as it does
 * from the extension host) to our echo server in its own process, on loopback. The deadline cancels a burst that
 * cannot finish in time; the figures are then those of the part that ran.
 */
export async function burstStall(count: number, ratePerSecond: number, deadlineMs: number): Promise<BurstStall> {
  const server = await ServerUnderTest.start({ kind: 'ours' });
  try {
    const idle = await watchStalls(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
    const started = performance.now();
    let burst: BurstResult | undefined;
    const during = await watchStalls(async () => {
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
