// Phase 'flood': a million datagrams against a fresh server of each kind (memory, log flushes), and the capture
// ring buffer's memory when full.
import { flood, type Flood } from './phases';
import { fmt, heading, table } from './report';
import type { ServerKind } from './servers';
import { captureMemory, type CaptureMemory } from './captureMemory';
import { check, log, TARGET } from './targets';

const FLOOD = { count: 1_000_000, deadlineMs: 60_000 };

/** Issue #25: the ring buffer full of datagrams of this size. */
const CAPTURE_MEMORY_SIZE = 1400;

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runFlood(): Promise<Record<string, unknown>> {
  // First: it takes a second, and a flood that misses its deadline on a busy machine ends the phase.
  const capture = await captureMemory(CAPTURE_MEMORY_SIZE);
  printCaptureMemory(capture);
  heading(`Flood: ${fmt.int(FLOOD.count)} datagrams of 64 B, window 64, fresh server process (at most ${FLOOD.deadlineMs / 1000} s each)`);
  const floods = {
    ours: await flood('ours', FLOOD.count, FLOOD.deadlineMs),
    baseline: await flood('baseline', FLOOD.count, FLOOD.deadlineMs),
  };
  printFloods(floods);
  return { floods, captureMemory: capture };
}

function printCaptureMemory({ datagrams, size, payloadBytes, footprintBytes, retainedBytes }: CaptureMemory): void {
  const ratio = retainedBytes / payloadBytes;
  log(
    `capture ring buffer full: ${fmt.int(datagrams)} datagrams of ${size} B = ${fmt.mb(payloadBytes)} of payload; the buffer holds ${fmt.mb(footprintBytes)} (columns and arena), the process kept ${fmt.mb(retainedBytes)} more after garbage collection`,
  );
  check(
    `capture ring buffer full (${fmt.int(datagrams)} × ${size} B): memory kept / payload`,
    fmt.ratio(ratio),
    `≤ ${TARGET.captureMemoryRatio}×`,
    ratio <= TARGET.captureMemoryRatio && footprintBytes / payloadBytes <= TARGET.captureMemoryRatio,
  );
}

function printFloods(floods: Record<ServerKind, Flood>): void {
  const heap = (s: Flood['start']): number => s.memory.heapUsed + s.memory.external;
  const rows = [
    [
      'server',
      'rt/s',
      'lost',
      'time',
      'µs/dgram',
      'heap start',
      'middle',
      'end',
      'growth',
      'RSS start',
      'middle',
      'end',
      'growth',
      'V8 reserved growth',
    ],
  ];
  for (const [kind, f] of Object.entries(floods)) {
    rows.push([
      kind === 'ours' ? 'ours' : 'plain',
      fmt.int(f.load.roundTripsPerSecond),
      fmt.int(f.load.lost),
      `${(f.load.durationMs / 1000).toFixed(1)} s${f.load.timedOut ? ' (deadline)' : ''}`,
      f.serverMicrosPerDatagram.toFixed(2),
      fmt.mb(heap(f.start)),
      fmt.mb(heap(f.middle)),
      fmt.mb(heap(f.end)),
      fmt.signedMb(heap(f.end) - heap(f.start)),
      fmt.mb(f.start.memory.rss),
      fmt.mb(f.middle.memory.rss),
      fmt.mb(f.end.memory.rss),
      fmt.signedMb(f.end.memory.rss - f.start.memory.rss),
      fmt.signedMb(f.end.memory.heapTotal - f.start.memory.heapTotal),
    ]);
  }
  console.log(table(rows));
  console.log('  heap: V8 heap used + external (Buffers) after a forced garbage collection in the server process: what is kept.');
  console.log('  V8 reserved: heapTotal, which grows while a high allocation rate makes V8 enlarge its young generation (bounded).');
  const ours = floods.ours;
  const growth = heap(ours.end) - heap(ours.start);
  const outsideHeap = ours.end.memory.rss - ours.start.memory.rss - (ours.end.memory.heapTotal - ours.start.memory.heapTotal);
  log(
    `log sink, ours: ${ours.flushesPerSecond.toFixed(2)} flushes/s, ${fmt.int(ours.linesPerSecond)} lines/s, ${fmt.int(ours.end.log!.notShown)} events counted in summaries instead of shown`,
  );
  check(
    'datagrams answered in the flood (ours)',
    `${fmt.int(ours.load.answered)}/${fmt.int(FLOOD.count)}`,
    'all, within the deadline',
    ours.load.answered === FLOOD.count,
  );
  check(
    'log sink flushes during the flood',
    `${ours.flushesPerSecond.toFixed(2)}/s`,
    `≤ ${TARGET.flushesPerSecond}/s`,
    ours.flushesPerSecond <= TARGET.flushesPerSecond,
  );
  check(
    'kept heap growth over the flood (ours)',
    fmt.signedMb(growth),
    `≤ ${fmt.mb(TARGET.heapGrowthBytes)}`,
    growth <= TARGET.heapGrowthBytes,
  );
  check(
    'RSS growth outside V8 heap (ours)',
    fmt.signedMb(outsideHeap),
    `≤ ${fmt.mb(TARGET.rssOutsideHeapGrowthBytes)}`,
    outsideHeap <= TARGET.rssOutsideHeapGrowthBytes,
  );
}
