import { performance } from 'node:perf_hooks';
import { CaptureBuffer } from '../src/core/capture/captureBuffer';
import { CaptureRecorder } from '../src/core/capture/captureRecorder';
import { sendBurst, type BurstResult } from '../src/core/send/client';
import type { EventSink } from '../src/core/events';
import { DEFAULT_BATCHING, LogBatcher } from '../src/core/log/logBatcher';
import { TrafficRates } from '../src/core/traffic/trafficRates';
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

/** What the extension hangs on a burst's events: the log (which counts them), the capture recorder and the charts. */
function viewsOfTheExtension(): { emit: EventSink; dispose(): void } {
  const ignore = (): void => undefined;
  const log = new LogBatcher({ info: ignore, warn: ignore, error: ignore }, { ...DEFAULT_BATCHING, previewBytes: 64, hexDump: 'auto' });
  const buffer = new CaptureBuffer(10_000);
  const rates = new TrafficRates();
  const recorder = new CaptureRecorder(buffer, (datagram) => rates.addDatagram(datagram));
  const emit: EventSink = (event) => {
    log.add(event);
    recorder.add(event);
    rates.addEvent(event);
  };
  return { emit, dispose: () => log.dispose() };
}

/**
 * How long the event loop of the process that sends a burst is blocked: the burst goes from this process (as it does
 * from the extension host, with the extension's log, capture and charts taking its events) to our echo server in its
 * own process, on loopback. The deadline cancels a burst that cannot finish in time; the figures are then those of the
 * part that ran.
 */
export async function burstStall(count: number, ratePerSecond: number, deadlineMs: number): Promise<BurstStall> {
  const server = await ServerUnderTest.start({ kind: 'ours' });
  const views = viewsOfTheExtension();
  try {
    const idle = await watchStalls(() => new Promise((resolve) => setTimeout(resolve, IDLE_MS)));
    const started = performance.now();
    let burst: BurstResult | undefined;
    const during = await watchStalls(async () => {
      burst = await sendBurst({
        emit: views.emit,
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
    views.dispose();
    await server.stop();
  }
}
