// The child process that runs one impairment proxy for the bench (bench/proxyLimits.ts), started directly or inside a
// network namespace, so it speaks in lines rather than over IPC: it prints {"port": P} once listening; each line
// "sample" on stdin gets one JSON line back (counters, sessions, memory after a garbage collection); the end of stdin
// stops it.
import { createInterface } from 'node:readline';
import { ImpairmentProxy, type ImpairmentProxyOptions, type ProxyCounters } from '../src/core/impairment/impairmentProxy';

export interface ProxySample {
  readonly counters: ProxyCounters;
  readonly sessions: number;
  /** V8 heap used + external (Buffers), after a garbage collection. */
  readonly keptBytes: number;
  readonly rssBytes: number;
}

async function main(): Promise<void> {
  const proxy = await ImpairmentProxy.start(JSON.parse(process.argv[2]) as ImpairmentProxyOptions);
  console.log(JSON.stringify({ port: proxy.local.port }));
  const lines = createInterface({ input: process.stdin });
  lines.on('line', () => {
    (globalThis as { gc?: () => void }).gc?.();
    const memory = process.memoryUsage();
    const sample: ProxySample = {
      counters: proxy.counters,
      sessions: proxy.sessionCount,
      keptBytes: memory.heapUsed + memory.external,
      rssBytes: memory.rss,
    };
    console.log(JSON.stringify(sample));
  });
  lines.on('close', () => void proxy.stop());
}

void main();
