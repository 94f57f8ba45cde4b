// Phase 'parsing': request files of 1 MB and 10 MB, extreme shapes, and @expect matches on hostile patterns.
import { measureParse, timeBacktracking, timeHostilePatterns } from './parsing';
import { EXTREME_SHAPES, type ExtremeShape } from './requestFileText';
import { fmt, heading, table } from './report';
import { check, log, TARGET } from './targets';

const PARSE_SIZES_MB = [1, 10];

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runParsing(): Promise<Record<string, unknown>> {
  heading('Request files: parsing 1 MB and 10 MB, and @expect matches on hostile patterns');
  const parsing = await measureParsing();
  return { parsing };
}

async function measureParsing(): Promise<unknown> {
  const parses = [];
  for (const mb of PARSE_SIZES_MB) parses.push({ mb, ...(await measureParse(mb * 1024 * 1024)) });
  const rows = [
    [
      'file',
      'blocks',
      'problems',
      'parse',
      'CPU',
      'split scan CPU',
      'parse/scan CPU',
      'CPU per MB',
      'peak RSS growth',
      '× file',
      'heap kept',
      '× file',
    ],
  ];
  for (const p of parses) {
    const mb = p.bytes / 1024 / 1024;
    rows.push([
      fmt.mb(p.bytes),
      fmt.int(p.blocks),
      fmt.int(p.problems),
      fmt.ms(p.parseMs),
      fmt.ms(p.parseCpuMs),
      fmt.ms(p.baselineCpuMs),
      fmt.ratio(p.parseCpuMs / p.baselineCpuMs),
      fmt.ms(p.parseCpuMs / mb),
      fmt.mb(p.peakRssGrowthBytes),
      fmt.ratio(p.peakRssGrowthBytes / p.bytes),
      fmt.mb(p.retainedHeapBytes),
      fmt.ratio(p.retainedHeapBytes / p.bytes),
    ]);
  }
  console.log(table(rows));
  log('generated files: blocks in every encoding, headers, {{…}} references, payloads up to 8 KB, one block in twenty with a mistake;');
  log("each parsed in a fresh process, medians of 5 parses; parse is wall clock, CPU the process's user + system time, the steady");
  log('figure on a busy machine (targets hold CPU time). split scan: text.split("\\n") and a look at each line\'s start, the least any');
  log('reader does. Peak RSS growth: maxRSS over the first parse; heap kept: what its result holds after a collection.');
  const [small, large] = parses;
  const linearity = large.parseCpuMs / (large.bytes / 1024 / 1024) / (small.parseCpuMs / (small.bytes / 1024 / 1024));
  log(`CPU time per MB at 10 MB over CPU time per MB at 1 MB: ${fmt.ratio(linearity)} (1× is linear)`);
  check('parse a 1 MB request file (CPU)', fmt.ms(small.parseCpuMs), `≤ ${TARGET.parse1MbMs} ms`, small.parseCpuMs <= TARGET.parse1MbMs);
  check('parse a 10 MB request file (CPU)', fmt.ms(large.parseCpuMs), `≤ ${TARGET.parse10MbMs} ms`, large.parseCpuMs <= TARGET.parse10MbMs);
  check('parse CPU time per MB, 10 MB over 1 MB', fmt.ratio(linearity), `≤ ${TARGET.parseLinearity}×`, linearity <= TARGET.parseLinearity);
  for (const p of parses) {
    const peak = p.peakRssGrowthBytes / p.bytes;
    const kept = p.retainedHeapBytes / p.bytes;
    if (p.mb === 10) {
      check(`parse ${p.mb} MB: peak RSS growth / file size`, fmt.ratio(peak), `≤ ${TARGET.parsePeakRss}×`, peak <= TARGET.parsePeakRss);
    }
    check(`parse ${p.mb} MB: heap kept / file size`, fmt.ratio(kept), `≤ ${TARGET.parseRetainedHeap}×`, kept <= TARGET.parseRetainedHeap);
  }

  const extremes = [];
  for (const shape of Object.keys(EXTREME_SHAPES) as ExtremeShape[]) {
    const mb = shape === 'a bad escape on every line' ? 1 : 10;
    extremes.push({ shape, ...(await measureParse(mb * 1024 * 1024, shape)) });
  }
  console.log();
  console.log(
    table([
      ['extreme file', 'size', 'problems', 'parse', 'CPU', 'split scan CPU', 'peak RSS growth'],
      ...extremes.map((e) => [
        e.shape,
        fmt.mb(e.bytes),
        fmt.int(e.problems),
        fmt.ms(e.parseMs),
        fmt.ms(e.parseCpuMs),
        fmt.ms(e.baselineCpuMs),
        fmt.mb(e.peakRssGrowthBytes),
      ]),
    ]),
  );
  log('before the parser scanned instead of encoding: 6.9 s, 3.4 s and (10 MB of bad escapes) 8.8 s; each mistake is a diagnostic.');
  for (const e of extremes) {
    check(
      `parse ${fmt.mb(e.bytes)}, ${e.shape} (CPU)`,
      fmt.ms(e.parseCpuMs),
      `≤ ${TARGET.parseExtremeMs} ms`,
      e.parseCpuMs <= TARGET.parseExtremeMs,
    );
  }

  const patterns = timeHostilePatterns();
  console.log();
  console.log(
    table([
      ['@expect', 'reply', 'result', 'slowest check', 'its CPU'],
      ...patterns.map((t) => [t.expectation, `${fmt.int(t.replyBytes)} B`, t.passed ? 'passed' : 'failed', fmt.ms(t.ms), fmt.ms(t.cpuMs)]),
    ]),
  );
  const backtracking = timeBacktracking([16, 20, 24]);
  log(
    `the same /^(a+)+$/ in V8's backtracking RegExp: ${backtracking.map((b) => `${b.replyBytes} B ${fmt.ms(b.ms)}`).join(', ')} — its time doubles`,
  );
  log('with each byte: 28 bytes take seconds, the largest datagram longer than anyone waits. RE2 reads each byte once per live state.');
  const slowest = Math.max(...patterns.map((t) => t.cpuMs));
  check(
    'slowest @expect matches check, CPU (hostile patterns, 64 KB reply)',
    fmt.ms(slowest),
    `≤ ${TARGET.patternMs} ms`,
    slowest <= TARGET.patternMs,
  );
  return { parses, linearity, extremes, patterns, backtracking };
}
