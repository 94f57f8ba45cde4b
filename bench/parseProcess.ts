// Forked with --expose-gc for one `.udp` file, so the memory figures are this parse's alone: the text is read from a
// file (no generator garbage), the first parse gives the peak RSS growth and, after a collection, the heap the result
// keeps; then parse and the baseline (split('\n') and a look at each line's start) alternate for the timings.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseRequestFile } from '../src/core/requests/requestFile';
import { median } from './report';

export interface ParseFigures {
  /** The file's size in UTF-8, as on disk. */
  readonly bytes: number;
  readonly blocks: number;
  readonly problems: number;
  /** Medians, wall clock and this process's CPU time (user + system): on a busy machine CPU time is the steady one. */
  readonly parseMs: number;
  readonly parseCpuMs: number;
  readonly baselineMs: number;
  readonly baselineCpuMs: number;
  /** Peak resident memory growth during the first parse (maxRSS), and the heap its result keeps. */
  readonly peakRssGrowthBytes: number;
  readonly retainedHeapBytes: number;
}

export type ParseMessage = { readonly figures: ParseFigures } | { readonly error: string };

const ROUNDS = 5;

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** What any reader of the file must do at least: find its lines and look at how each starts. */
function baseline(text: string): number {
  let headers = 0;
  for (const line of text.split('\n')) if (line.startsWith('@') || line.startsWith('###')) headers++;
  return headers;
}

/** The first parse: peak RSS growth while it runs, and the heap its result keeps after a collection. */
function firstParse(text: string): Pick<ParseFigures, 'blocks' | 'problems' | 'peakRssGrowthBytes' | 'retainedHeapBytes'> {
  gc();
  const heapBefore = process.memoryUsage();
  const rssBefore = process.resourceUsage().maxRSS * 1024;
  const parsed = parseRequestFile(text);
  const peakRssGrowthBytes = process.resourceUsage().maxRSS * 1024 - rssBefore;
  gc();
  const heapAfter = process.memoryUsage();
  const retainedHeapBytes = heapAfter.heapUsed + heapAfter.external - (heapBefore.heapUsed + heapBefore.external);
  // Read after the collection, so the result was alive through it.
  return { blocks: parsed.blocks.length, problems: parsed.problems.length, peakRssGrowthBytes, retainedHeapBytes };
}

/** Wall-clock and CPU milliseconds of each run, each after a collection. */
function timings(): { wall: number[]; cpu: number[]; time(run: () => unknown): void } {
  const wall: number[] = [];
  const cpu: number[] = [];
  return {
    wall,
    cpu,
    time(run) {
      gc();
      const started = performance.now();
      const cpuBefore = process.cpuUsage();
      run();
      const used = process.cpuUsage(cpuBefore);
      wall.push(performance.now() - started);
      cpu.push((used.user + used.system) / 1000);
    },
  };
}

function measure(file: string): ParseFigures {
  const text = fs.readFileSync(file, 'utf8');
  const first = firstParse(text);
  const parse = timings();
  const scan = timings();
  for (let round = 0; round < ROUNDS; round++) {
    scan.time(() => baseline(text));
    parse.time(() => parseRequestFile(text));
  }
  return {
    bytes: Buffer.byteLength(text),
    ...first,
    parseMs: median(parse.wall),
    parseCpuMs: median(parse.cpu),
    baselineMs: median(scan.wall),
    baselineCpuMs: median(scan.cpu),
  };
}

try {
  process.send!({ figures: measure(process.argv[2]) } satisfies ParseMessage);
} catch (error) {
  process.send!({ error: String(error) } satisfies ParseMessage);
}
