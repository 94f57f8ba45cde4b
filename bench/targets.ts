// What the benchmark holds each figure against, and where each phase records whether it met it.
import * as path from 'node:path';
import { DEFAULT_BATCHING } from '../src/core/log/logBatcher';
import type { Check } from './report';

/** Summary lines a flush may add to its budget: 100 peers, plus a few folded "other peers", of ≤ 300 bytes. */
export const SUMMARY_ALLOWANCE = { lines: 110, bytes: 110 * 300 };

export const TARGET = {
  throughputRatio: 0.9,
  /** Issue #25: the extension as shipped at least as frugal per datagram as the plainest echo. */
  cpuRatio: 1.0,
  /** Issue #25: with the traffic view open and following the flood. */
  trafficViewCpuRatio: 0.9,
  p50Ratio: 1.2,
  /** Issue #25: one datagram in flight, where the latency is all there is. */
  pingPongP50Ratio: 1.05,
  /** Issue #25: the proxy as shipped against the plainest relay, no impairment set. */
  proxyThroughputRatio: 0.95,
  proxyCpuRatio: 0.9,
  /** Issue #25: the ring buffer full of 10,000 datagrams of 1,400 B, memory held over payload bytes. */
  captureMemoryRatio: 1.25,
  flushesPerSecond: 5,
  heapGrowthBytes: 2 * 1024 * 1024,
  /** Kept memory may rise this much once the delay queue is full: flat. */
  delayFloodRiseBytes: 4 * 1024 * 1024,
  rssOutsideHeapGrowthBytes: 8 * 1024 * 1024,
  // The RE2 engine (re2js, for @expect matches) is about 150 KB of it.
  bundleBytes: 250 * 1024,
  activationMs: 30,
  stallMs: 50,
  logLinesPerSecond: 5 * (DEFAULT_BATCHING.maxLinesPerFlush + SUMMARY_ALLOWANCE.lines),
  logBytesPerSecond: 5 * (DEFAULT_BATCHING.maxBytesPerFlush + SUMMARY_ALLOWANCE.bytes),
  /** Request file parsing: on open and after every edit, so well under a second for 10 MB. */
  parse1MbMs: 100,
  parse10MbMs: 1000,
  /** Time per MB at 10 MB over time per MB at 1 MB: 1 is linear. */
  parseLinearity: 2,
  /** Multiples of the file's size in UTF-8; V8 holds a text with any non-Latin-1 character at 2 bytes a character. */
  parsePeakRss: 10,
  parseRetainedHeap: 5,
  /** Each extreme shape, 10 MB (the mistakes 1 MB: every line a diagnostic). */
  parseExtremeMs: 1000,
  /** The longest `@expect matches` check, on the largest datagram: what a user would feel as a stall. */
  patternMs: 50,
  burstStallMs: 50,
};

export const repoRoot = path.resolve(__dirname, '..', '..');
export const checks: Check[] = [];
export const check = (name: string, value: string, target: string, pass: boolean): void => void checks.push({ name, value, target, pass });
export const log = (line: string): void => console.log(`  ${line}`);
