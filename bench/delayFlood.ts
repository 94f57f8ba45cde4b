import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { DEFAULT_DELAY_QUEUE } from '../src/core/impairment/delayedCopies';
import { NO_SIMULATION } from '../src/core/impairment/impairment';
import { SIMULATION_LIMITS } from '../src/core/limits';
import { ServerUnderTest, type ServerSample } from './servers';

export interface DelayFloodOptions {
  /** Bytes per datagram: small ones fill the queue's count first, large ones its bytes. */
  readonly size: number;
  readonly perSecond: number;
  readonly durationMs: number;
  readonly sampleEveryMs: number;
}

export interface DelayFloodSample {
  readonly atMs: number;
  readonly sent: number;
  readonly received: number;
  readonly pending: number;
  readonly queueFullDrops: number;
  /** V8 heap used + external (Buffers), after a garbage collection. */
  readonly keptBytes: number;
  readonly rssBytes: number;
}

export interface DelayFlood {
  readonly options: DelayFloodOptions;
  readonly before: DelayFloodSample;
  readonly samples: readonly DelayFloodSample[];
  /** What the replies of every datagram received would have held without the cap. */
  readonly uncappedBytes: number;
}

const TICK_MS = 10;

/**
 * Our server with the longest simulated delay there is (a minute), flooded for `durationMs` (well under the
 * minute, so no reply ever leaves and without the cap every one would still be held), its memory sampled after a
 * garbage collection every `sampleEveryMs`. Fire and forget from a socket on 127.0.0.1, paced, bounded in count
 * and time; the server process ends afterwards, its timers with it.
 */
export async function delayFlood(options: DelayFloodOptions): Promise<DelayFlood> {
  const server = await ServerUnderTest.start({ kind: 'ours', simulation: { ...NO_SIMULATION, delayMs: SIMULATION_LIMITS.maxDelayMs } });
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.connect(server.port, '127.0.0.1', resolve));
    const payload = Buffer.alloc(options.size, 0x62);
    const started = performance.now();
    const before = summarise(await server.sample(true), 0, 0);
    const samples: DelayFloodSample[] = [];
    let sent = 0;
    const total = Math.round((options.perSecond * options.durationMs) / 1000);
    let nextSample = options.sampleEveryMs;
    while (sent < total) {
      const elapsed = performance.now() - started;
      const due = Math.min(total, Math.round((options.perSecond * elapsed) / 1000));
      for (; sent < due; sent++) socket.send(payload);
      if (elapsed >= nextSample) {
        samples.push(summarise(await server.sample(true), elapsed, sent));
        nextSample += options.sampleEveryMs;
      }
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    // The last datagrams land, then one more sample.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const last = summarise(await server.sample(true), performance.now() - started, sent);
    samples.push(last);
    return { options, before, samples, uncappedBytes: last.received * options.size };
  } finally {
    socket.close();
    await server.stop();
  }
}

function summarise(sample: ServerSample, atMs: number, sent: number): DelayFloodSample {
  const counters = sample.counters!;
  return {
    atMs,
    sent,
    received: counters.received,
    pending: counters.pending,
    queueFullDrops: counters.droppedBy['delay-queue-full'],
    keptBytes: sample.memory.heapUsed + sample.memory.external,
    rssBytes: sample.memory.rss,
  };
}

/** The cap a flood of this size runs into first: count or bytes. */
export function capFor(size: number): { replies: number; bytes: number; binding: 'count' | 'bytes' } {
  const byBytes = Math.floor(DEFAULT_DELAY_QUEUE.maxBytes / size);
  return byBytes < DEFAULT_DELAY_QUEUE.maxReplies
    ? { replies: byBytes, bytes: byBytes * size, binding: 'bytes' }
    : { replies: DEFAULT_DELAY_QUEUE.maxReplies, bytes: DEFAULT_DELAY_QUEUE.maxReplies * size, binding: 'count' };
}
