// `npm run bench`: our echo server core (event stream, counters, batched log sink into memory) against the plainest
// Node dgram echo, on loopback, plus the drop-simulation accuracy, a 1,000,000-datagram flood, parsing large `.udp`
// files and hostile `@expect matches` patterns, bundle size and activation cost. Prints every figure with its target, and writes bench-results/latest.json.
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { capFor, delayFlood, type DelayFlood, type DelayFloodOptions } from './delayFlood';
import { burstStall, type BurstStall } from './burstStall';
import { buildProductionBundle, timeActivation, type Bundle } from './footprint';
import { measureParse, timeBacktracking, timeHostilePatterns } from './parsing';
import { EXTREME_SHAPES, type ExtremeShape } from './requestFileText';
import { buildCLoadGenerator } from './cLoadGenerator';
import {
  compare,
  compareCpu,
  dropAccuracy,
  startContenders,
  stopContenders,
  flood,
  medianOf,
  CONTENDERS,
  type Contender,
  type CpuComparison,
  type CpuRun,
  type DropCheck,
  type Flood,
  type Run,
  type Scenario,
  type ScenarioResult,
  type Variant,
} from './phases';
import { DEFAULT_BATCHING } from '../src/core/logBatcher';
import { checksTable, fmt, heading, median, percentile, table, writeJson, type Check } from './report';
import { CAPTURE_BUFFER_SIZE, type ServerKind } from './servers';
import { floodFromSources, type SourceFlood } from './sourceFlood';
import { SIMULATION_LIMITS } from '../src/core/limits';
import { MAX_BUFFERED_BYTES } from '../src/core/captureBuffer';
import { proxyBench, type ProxyBenchResult } from './proxy';
import { proxyLimitsPhase } from './proxyLimits';

/** `BENCH_PHASES=comparison,flood` runs only those phases (while iterating on one figure); all of them by default. */
const ALL_PHASES = ['comparison', 'drop', 'flood', 'sources', 'delay', 'parsing', 'burst', 'proxy', 'proxy-limits', 'footprint'] as const;
type Phase = (typeof ALL_PHASES)[number];
const PHASES = selectedPhases(process.env.BENCH_PHASES);
const ROUNDS = 9;
const SCENARIOS: readonly Scenario[] = [
  { name: '64 B, window 64', size: 64, window: 64, count: 60_000 },
  { name: '1400 B, window 64', size: 1400, window: 64, count: 60_000 },
  { name: '64 B, ping-pong', size: 64, window: 1, count: 25_000 },
  { name: '1400 B, ping-pong', size: 1400, window: 1, count: 25_000 },
];
/**
 * Issue #9's CPU figure: each server saturated by the C generator (64 in flight), in many short alternating runs,
 * because single runs on a shared machine swing ±10 %: 3 sets of fresh server processes, 11 rounds each, of 20,000
 * datagrams per size and server.
 */
const CPU_COMPARISON = { sizes: [64, 1400], window: 64, processes: 3, rounds: 11, count: 20_000 } as const;
const DROP = { count: 100_000, percent: 10, tolerance: 1 };
const FLOOD = { count: 1_000_000, deadlineMs: 60_000 };
const SOURCE_FLOOD = { sources: 1000, size: 512, durationMs: 5000, maxDatagrams: 500_000 };
/** What a hostile folder may set: every datagram as a hex dump of up to 64 KiB. */
const HOSTILE_LOG = { previewBytes: 65_536, hexDump: 'always' } as const;
/** Summary lines a flush may add to its budget: 100 peers, plus a few folded "other peers", of ≤ 300 bytes. */
const SUMMARY_ALLOWANCE = { lines: 110, bytes: 110 * 300 };
const HOSTILE_FLOOD = 'mirror, log settings 64 KiB + hex dump always';
const ERROR_FLOOD = 'every reply too large to send (an error each)';
/**
 * The longest simulated delay (60 s) against a flood: small datagrams fill the delay queue's count first, large
 * ones its bytes. 15 s each is enough: the cap is reached in the first 2 s, and no reply leaves before 60 s.
 */
const DELAY_FLOODS: readonly DelayFloodOptions[] = [
  { size: 64, perSecond: 5000, durationMs: 15_000, sampleEveryMs: 3000 },
  { size: 8192, perSecond: 3000, durationMs: 15_000, sampleEveryMs: 3000 },
];
/** What each held reply may cost besides its bytes (timer, reply record, peer, map entry; ~1.1 KB measured). */
const DELAYED_REPLY_OVERHEAD_BYTES = 1536;
/** The rest of the server process under a flood: log batching between flushes holds payloads, V8 frees lazily. */
const DELAY_FLOOD_SLACK_BYTES = 16 * 1024 * 1024;
const BURST = { count: 1_000_000, ratePerSecond: 1_000_000, deadlineMs: 60_000 };
const ACTIVATION_RUNS = 5;
/** A load generator this busy may be what limits the round trips, rather than the server. */
const GENERATOR_BOUND_PERCENT = 90;
/** Whatever happens, the bench ends: every phase has its own deadline, and this is the last resort. */
const WATCHDOG_MS = 10 * 60_000;

const TARGET = {
  throughputRatio: 0.9,
  /** Issue #9: ours, with everything the extension attaches, within 5 % of the plain echo's CPU per datagram. */
  cpuRatio: 0.95,
  p50Ratio: 1.2,
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
const PARSE_SIZES_MB = [1, 10];
/** 100,000 datagrams each way for the loss; 1,000 clients at once, their heap flat within 2 MB over 5 more round trips each. */
const PROXY_BENCH = {
  rounds: 5,
  count: 50_000,
  window: 32,
  lossCount: 100_000,
  lossPercent: 10,
  sessions: 1000,
  lossTolerancePoints: 1,
  sessionHeapGrowthBytes: 2 * 1024 * 1024,
};

const MAX_DELAY_S = SIMULATION_LIMITS.maxDelayMs / 1000;
const repoRoot = path.resolve(__dirname, '..', '..');
const checks: Check[] = [];
const check = (name: string, value: string, target: string, pass: boolean): void => void checks.push({ name, value, target, pass });
const log = (line: string): void => console.log(`  ${line}`);
const loadAverage = (): string =>
  os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');

function checkProxy({ ours, baseline, ratios, loss, sessions }: ProxyBenchResult): void {
  const throughput = median(ratios.throughput);
  const p50 = median(ratios.p50);
  log(
    `ours ${fmt.int(ours.roundTripsPerSecond)} round trips/s, p50 ${fmt.ms(ours.p50Ms)}; plain relay ${fmt.int(baseline.roundTripsPerSecond)}/s, p50 ${fmt.ms(baseline.p50Ms)}`,
  );
  log(
    `CPU of this process (client and relay) per round trip: ours ${ours.cpuMicrosPerRoundTrip.toFixed(1)} µs, plain relay ${baseline.cpuMicrosPerRoundTrip.toFixed(1)} µs (plain/ours ${fmt.ratio(median(ratios.cpu))}; for information)`,
  );
  const rounds = (values: number[]): string => values.map((x) => x.toFixed(2)).join(' ');
  log(`ours/plain per round: throughput ${rounds(ratios.throughput)}; p50 ${rounds(ratios.p50)}; CPU plain/ours ${rounds(ratios.cpu)}`);
  check('proxy round trips/s vs plain relay', fmt.ratio(throughput), `≥ ${TARGET.throughputRatio}×`, throughput >= TARGET.throughputRatio);
  check('proxy p50 round trip vs plain relay', fmt.ratio(p50), `≤ ${TARGET.p50Ratio}×`, p50 <= TARGET.p50Ratio);
  for (const [way, percent, received] of [
    ['client → server', loss.toServerPercent, loss.toServerReceived],
    ['server → client', loss.toClientPercent, loss.toClientReceived],
  ] as const) {
    log(`${way}: ${fmt.pct(percent, 3)} lost of ${fmt.int(received)} received, set ${loss.setPercent} %`);
    check(
      `proxy loss ${way} (${fmt.int(received)} datagrams)`,
      fmt.pct(percent, 3),
      `${loss.setPercent} ± ${PROXY_BENCH.lossTolerancePoints} %`,
      Math.abs(percent - loss.setPercent) <= PROXY_BENCH.lossTolerancePoints && received >= PROXY_BENCH.lossCount,
    );
  }
  const growth = sessions.heapAfterSecondBytes - sessions.heapAfterFirstBytes;
  log(
    `${fmt.int(sessions.count)} sessions open: heap ${fmt.mb(sessions.heapAfterFirstBytes)}, after 5 more round trips each ${fmt.mb(sessions.heapAfterSecondBytes)}`,
  );
  check(
    `proxy heap with ${fmt.int(sessions.count)} sessions, 5 more round trips each`,
    fmt.signedMb(growth),
    `≤ +${fmt.mb(PROXY_BENCH.sessionHeapGrowthBytes)}`,
    sessions.count === PROXY_BENCH.sessions && growth <= PROXY_BENCH.sessionHeapGrowthBytes,
  );
}

async function main(): Promise<void> {
  const started = performance.now();
  const cpus = os.cpus();
  const machine = {
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    loadAtStart: os.loadavg(),
  };
  console.log(`UDP Workbench bench — ${new Date().toISOString()}`);
  console.log(`${machine.node} on ${machine.platform}, ${machine.cores} × ${machine.cpu}; load average ${loadAverage()}`);
  if (os.loadavg()[0] > machine.cores) {
    console.log(`  (more runnable processes than cores: expect noisy figures; the ratios below pair runs taken seconds apart)`);
  }
  if (PHASES.size < ALL_PHASES.length) console.log(`  only the phases ${[...PHASES].join(', ')} (BENCH_PHASES)`);

  let comparison: ScenarioResult[] | undefined;
  let cpuComparison: CpuComparison[] | undefined;
  if (PHASES.has('comparison')) {
    heading(`Ours (without, then with the capture recorder) vs plain dgram echo — ${ROUNDS} rounds, medians`);
    const servers = await startContenders();
    log('warmed up the three servers (20,000 datagrams of each size)');
    try {
      comparison = await compare(servers, SCENARIOS, ROUNDS, log);
    } finally {
      await stopContenders(servers);
    }
    const generate = buildCLoadGenerator(repoRoot, path.join(__dirname, 'native'));
    if ('unavailable' in generate) {
      log(`the C load generator is unavailable: ${generate.unavailable}.`);
      log('CPU per datagram falls back to the round-trip runs above, driven by the Node generator (often generator-bound).');
    } else {
      cpuComparison = await compareCpu(generate, CPU_COMPARISON, log);
    }
    printComparison(comparison, cpuComparison === undefined);
    if (cpuComparison) printCpuComparison(cpuComparison);
  }

  let drop: DropCheck | undefined;
  if (PHASES.has('drop')) {
    heading(`Simulated ${DROP.percent} % inbound drop, ${fmt.int(DROP.count)} datagrams, ours`);
    drop = await dropAccuracy(DROP.count, DROP.percent);
    const unexplained = drop.load.lost - drop.simulatedDrops;
    log(
      `sent ${fmt.int(drop.load.sent)}, answered ${fmt.int(drop.load.answered)}, lost ${fmt.int(drop.load.lost)} → measured loss ${fmt.pct(drop.load.lossPercent, 3)}`,
    );
    log(
      `the server counted ${fmt.int(drop.simulatedDrops)} simulated drops of ${fmt.int(drop.received)} received; losses the simulation does not explain: ${unexplained}`,
    );
    check(
      `loss with ${DROP.percent} % simulated drop`,
      fmt.pct(drop.load.lossPercent, 3),
      `${DROP.percent} ± ${DROP.tolerance} %`,
      Math.abs(drop.load.lossPercent - DROP.percent) <= DROP.tolerance,
    );
  }

  let floods: Record<ServerKind, Flood> | undefined;
  if (PHASES.has('flood')) {
    heading(
      `Flood: ${fmt.int(FLOOD.count)} datagrams of 64 B, window 64, fresh server process (at most ${FLOOD.deadlineMs / 1000} s each)`,
    );
    floods = { ours: await flood('ours', FLOOD.count, FLOOD.deadlineMs), baseline: await flood('baseline', FLOOD.count, FLOOD.deadlineMs) };
    printFloods(floods);
  }

  let sourceFloods: Record<string, SourceFlood> | undefined;
  if (PHASES.has('sources')) {
    heading(
      `Flood from ${fmt.int(SOURCE_FLOOD.sources)} source addresses, ${SOURCE_FLOOD.size} B random, ${SOURCE_FLOOD.durationMs / 1000} s each, ours + batched log`,
    );
    sourceFloods = {
      [HOSTILE_FLOOD]: await floodFromSources({ log: HOSTILE_LOG }, SOURCE_FLOOD),
      [ERROR_FLOOD]: await floodFromSources({ replyMode: 'template', template: 'x'.repeat(65_600) }, SOURCE_FLOOD),
    };
    printSourceFloods(sourceFloods);
  }
  let delayFloods: DelayFlood[] | undefined;
  if (PHASES.has('delay')) {
    heading(
      `Delay flood: a ${MAX_DELAY_S} s simulated delay, flooded from 127.0.0.1 (${DELAY_FLOODS.map((f) => `${f.size} B`).join(', then ')}; ${DELAY_FLOODS[0].durationMs / 1000} s each)`,
    );
    delayFloods = [];
    for (const options of DELAY_FLOODS) delayFloods.push(await delayFlood(options));
    printDelayFloods(delayFloods);
  }
  let parsing: unknown;
  if (PHASES.has('parsing')) {
    heading('Request files: parsing 1 MB and 10 MB, and @expect matches on hostile patterns');
    parsing = await measureParsing();
  }
  let stall: BurstStall | undefined;
  if (PHASES.has('burst')) {
    heading(
      `Event-loop stall: a burst of ${fmt.int(BURST.count)} at ${fmt.int(BURST.ratePerSecond)}/s from this process to ours (at most ${BURST.deadlineMs / 1000} s)`,
    );
    stall = await burstStall(BURST.count, BURST.ratePerSecond, BURST.deadlineMs);
    printBurstStall(stall);
  }

  let proxy: ProxyBenchResult | undefined;
  if (PHASES.has('proxy')) {
    heading(
      `Impairment proxy vs the plainest Node relay — ${PROXY_BENCH.rounds} rounds of ${fmt.int(PROXY_BENCH.count)} round trips, window ${PROXY_BENCH.window}, medians`,
    );
    proxy = await proxyBench(PROXY_BENCH, log);
    checkProxy(proxy);
  }
  let proxyLimits: unknown;
  if (PHASES.has('proxy-limits')) {
    heading('Impairment proxy limits: a 60 s delay flooded from 127.0.0.1; one remote address against every session');
    proxyLimits = await proxyLimitsPhase(check, log);
  }

  let footprint: unknown;
  if (PHASES.has('footprint')) {
    heading('Footprint');
    footprint = await measureFootprint();
  }

  const totalSeconds = (performance.now() - started) / 1000;
  heading('Targets');
  console.log(checksTable(checks));
  const results = {
    machine: { ...machine, loadAtEnd: os.loadavg() },
    phases: [...PHASES],
    totalSeconds,
    rounds: ROUNDS,
    targets: TARGET,
    comparison: comparison && summarise(comparison),
    cpuComparison: cpuComparison && { ...CPU_COMPARISON, results: cpuComparison },
    drop,
    floods,
    sourceFloods,
    delayFloods,
    parsing,
    burstStall: stall,
    footprint,
    proxy,
    proxyLimits,
    checks,
  };
  const file = writeJson(repoRoot, results);
  const missed = checks.filter((c) => !c.pass).length;
  console.log(
    `\n${checks.length - missed}/${checks.length} targets met. Load average now ${loadAverage()}. Results: ${path.relative(repoRoot, file)}. Total time ${totalSeconds.toFixed(1)} s.`,
  );
}

/** Rows of the comparison: issue #9's configuration holds the targets; with the capture recorder is for information. */
const VARIANT_ROWS: ReadonlyArray<{ variant: Variant; suffix: string }> = [
  { variant: 'ours', suffix: '' },
  { variant: 'capture', suffix: ' + capture' },
];

/** `cpuTarget`: hold the Node generator's CPU figure against the target (only when the C generator could not be built). */
function printComparison(results: readonly ScenarioResult[], cpuTarget: boolean): void {
  const latency = [
    ['scenario', 'ours rt/s', 'plain rt/s', 'ratio', 'ours p50', 'plain p50', 'ratio', 'ours p99', 'plain p99', 'lost ours/plain'],
  ];
  const cpu = [
    ['scenario', 'ours µs/dgram', 'plain µs/dgram', 'plain/ours', 'server CPU ours', 'plain', 'generator CPU', 'generator-bound runs'],
  ];
  for (const { scenario, runs, ratios } of results) {
    const m = (kind: Contender, pick: (run: Run) => number): number => medianOf(runs[kind], pick);
    const lost = (kind: Contender): number => runs[kind].reduce((sum, run) => sum + run.lost, 0);
    for (const { variant, suffix } of VARIANT_ROWS) {
      const name = `${scenario.name}${suffix}`;
      const all = [...runs[variant], ...runs.baseline];
      const throughput = median(ratios[variant].throughput);
      const p50 = median(ratios[variant].p50);
      const cpuRatio = median(ratios[variant].cpu);
      latency.push([
        name,
        fmt.int(m(variant, (r) => r.roundTripsPerSecond)),
        fmt.int(m('baseline', (r) => r.roundTripsPerSecond)),
        fmt.ratio(throughput),
        fmt.ms(m(variant, (r) => r.p50Ms)),
        fmt.ms(m('baseline', (r) => r.p50Ms)),
        fmt.ratio(p50),
        fmt.ms(m(variant, (r) => r.p99Ms)),
        fmt.ms(m('baseline', (r) => r.p99Ms)),
        `${lost(variant)}/${lost('baseline')}`,
      ]);
      cpu.push([
        name,
        m(variant, (r) => r.serverMicrosPerDatagram).toFixed(2),
        m('baseline', (r) => r.serverMicrosPerDatagram).toFixed(2),
        fmt.ratio(cpuRatio),
        fmt.pct(
          m(variant, (r) => r.serverCpuPercent),
          0,
        ),
        fmt.pct(
          m('baseline', (r) => r.serverCpuPercent),
          0,
        ),
        fmt.pct(median(all.map((r) => r.cpuPercent)), 0),
        `${all.filter((r) => r.cpuPercent >= GENERATOR_BOUND_PERCENT).length}/${all.length}`,
      ]);
      if (variant !== 'ours') continue;
      check(`throughput ${name}`, fmt.ratio(throughput), `≥ ${TARGET.throughputRatio}×`, throughput >= TARGET.throughputRatio);
      check(`p50 round trip ${name}`, fmt.ratio(p50), `≤ ${TARGET.p50Ratio}×`, p50 <= TARGET.p50Ratio);
      if (cpuTarget && scenario.window > 1) {
        check(
          `server CPU/datagram plain/ours ${name} (Node generator)`,
          fmt.ratio(cpuRatio),
          `≥ ${TARGET.cpuRatio}×`,
          cpuRatio >= TARGET.cpuRatio,
        );
      }
    }
    const captured = runs.capture.reduce((sum, run) => sum + (run.captured?.recorded ?? 0), 0);
    const expected = runs.capture.reduce((sum, run) => sum + (run.captured?.expected ?? 0), 0);
    check(
      `datagrams captured (ours + capture) ${scenario.name}`,
      `${fmt.int(captured)}/${fmt.int(expected)}`,
      'every one received and replied',
      captured === expected && expected > 0,
    );
  }
  console.log(table(latency));
  console.log('  rt/s: round trips per second; ratio: median of the ours/plain ratios of each round; lost: summed over all rounds.');
  console.log('  + capture: with the capture recorder and its ring buffer too (the traffic view open); for information, no target.');
  console.log();
  console.log(table(cpu));
  console.log(`  µs/dgram: server process CPU (user + system) per datagram answered, in the round-trip runs above (for information:`);
  console.log(`  the Node generator is about as fast as the server, so it often sets the pace). CPU: % of one core, medians.`);
  console.log(
    `  generator-bound: runs where the load generator used ≥ ${GENERATOR_BOUND_PERCENT} % of a core (its limit, not the server's, may set the pace).`,
  );
  for (const { variant, suffix } of VARIANT_ROWS) {
    for (const run of results.flatMap((r) => r.runs[variant].filter((o) => o.lost > 0))) {
      const neverArrived = run.serverReceived === undefined ? '?' : run.sent - run.serverReceived;
      log(
        `ours${suffix} lost ${run.lost} of ${fmt.int(run.sent)} in one run, ${neverArrived} of them before reaching the server (a full socket receive buffer).`,
      );
    }
  }
  for (const r of results) {
    for (const { variant, suffix } of VARIANT_ROWS) {
      const { throughput, cpu: cpuRatios } = r.ratios[variant];
      log(
        `${r.scenario.name}${suffix}, per round: throughput ${throughput.map((x) => x.toFixed(2)).join(' ')}; CPU plain/ours ${cpuRatios.map((x) => x.toFixed(2)).join(' ')}`,
      );
    }
  }
}

function printCpuComparison(results: readonly CpuComparison[]): void {
  const { processes, rounds, count, window } = CPU_COMPARISON;
  heading(
    `Server CPU per datagram, each server saturated by the C generator (${window} in flight) — ${processes} server processes × ${rounds} rounds of ${fmt.int(count)}`,
  );
  const rows = [
    ['scenario', 'ours µs/dgram', 'plain µs/dgram', 'plain/ours', 'middle half', 'server CPU ours', 'plain', 'generator CPU', 'lost'],
  ];
  for (const { size, runs, ratios } of results) {
    for (const { variant, suffix } of VARIANT_ROWS) {
      const name = `${size} B, window ${window}${suffix}`;
      const ratio = median(ratios[variant]);
      const sorted = [...ratios[variant]].sort((a, b) => a - b);
      const m = (kind: Contender, pick: (run: CpuRun) => number): number => medianOf(runs[kind], pick);
      const lost = [...runs[variant], ...runs.baseline].reduce((sum, run) => sum + run.lost, 0);
      rows.push([
        name,
        m(variant, (r) => r.microsPerDatagram).toFixed(2),
        m('baseline', (r) => r.microsPerDatagram).toFixed(2),
        fmt.ratio(ratio),
        `${percentile(sorted, 25).toFixed(2)}–${percentile(sorted, 75).toFixed(2)}`,
        fmt.pct(
          m(variant, (r) => r.serverCpuPercent),
          0,
        ),
        fmt.pct(
          m('baseline', (r) => r.serverCpuPercent),
          0,
        ),
        fmt.pct(
          medianOf([...runs[variant], ...runs.baseline], (r) => r.generatorCpuPercent),
          0,
        ),
        fmt.int(lost),
      ]);
      if (variant === 'ours') {
        check(`server CPU/datagram plain/ours ${name}`, fmt.ratio(ratio), `≥ ${TARGET.cpuRatio}×`, ratio >= TARGET.cpuRatio);
      }
    }
  }
  console.log(table(rows));
  console.log('  plain/ours: median of the per-round ratios; middle half: their 25th to 75th percentile. A saturated server always');
  console.log('  has datagrams waiting, so its CPU per datagram is what its code costs. CPU: % of one core, medians; lost: all rounds.');
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

function printSourceFloods(floods: Record<string, SourceFlood>): void {
  const rows = [
    [
      'flood',
      'sent/s',
      'received',
      'errors',
      'sender CPU',
      'server CPU',
      'log lines/s',
      'log KB/s',
      'flushes/s',
      'not shown',
      'max delay',
      'max 5 ms gap',
    ],
  ];
  for (const [name, f] of Object.entries(floods)) {
    rows.push([
      name,
      fmt.int(f.sent / (f.durationMs / 1000)),
      fmt.int(f.received),
      fmt.int(f.serverErrors),
      fmt.pct(f.senderCpuPercent, 0),
      fmt.pct(f.serverCpuPercent, 0),
      fmt.int(f.logLinesPerSecond),
      (f.logBytesPerSecond / 1024).toFixed(1),
      f.flushesPerSecond.toFixed(2),
      fmt.int(f.notShown),
      fmt.ms(f.maxDelayMs),
      fmt.ms(f.maxTimerGapMs),
    ]);
    const stall = Math.max(f.maxDelayMs, f.maxTimerGapMs);
    if (name === HOSTILE_FLOOD) check(`largest event-loop stall, ${name}`, fmt.ms(stall), `< ${TARGET.stallMs} ms`, stall < TARGET.stallMs);
    check(
      `log lines written per second, ${name}`,
      fmt.int(f.logLinesPerSecond),
      `≤ ${fmt.int(TARGET.logLinesPerSecond)}`,
      f.logLinesPerSecond <= TARGET.logLinesPerSecond,
    );
    check(
      `log bytes written per second, ${name}`,
      fmt.kb(f.logBytesPerSecond),
      `≤ ${fmt.kb(TARGET.logBytesPerSecond)}`,
      f.logBytesPerSecond <= TARGET.logBytesPerSecond,
    );
  }
  console.log(table(rows));
  console.log('  received: of the datagrams sent, those that reached the server (the rest overflowed its socket buffer in the kernel).');
  console.log('  In the server process: lines as the Output panel shows them (a hex dump is several) and their UTF-8 bytes, per second');
  console.log('  over the flood and half a second after; the largest event-loop delay (perf_hooks) and gap between ticks of a 5 ms timer.');
  console.log(`  ${ERROR_FLOOD}: the server builds a 64 KiB reply per datagram that the kernel refuses; that work, not the log, sets`);
  console.log(`  its stalls (printed for information); what it shows is that error lines keep within the log's budget.`);
  console.log(
    `  The log's budget per flush: ${DEFAULT_BATCHING.maxEventsPerFlush} entries, ${fmt.int(DEFAULT_BATCHING.maxLinesPerFlush)} lines, ${fmt.kb(DEFAULT_BATCHING.maxBytesPerFlush)}, plus summary lines.`,
  );
}

function printDelayFloods(floods: readonly DelayFlood[]): void {
  for (const { options, before, samples, uncappedBytes } of floods) {
    const cap = capFor(options.size);
    // The capture's ring buffer keeps the most recent datagrams too, as in the extension: received ones, here.
    const captureBytes = Math.min(MAX_BUFFERED_BYTES, CAPTURE_BUFFER_SIZE * options.size);
    const allowed = cap.bytes + cap.replies * DELAYED_REPLY_OVERHEAD_BYTES + captureBytes + DELAY_FLOOD_SLACK_BYTES;
    const rows = [['time', 'sent', 'received', 'replies held', 'dropped: queue full', 'kept memory', 'growth', 'RSS']];
    rows.push(['start', '0', '0', '0', '0', fmt.mb(before.keptBytes), '', fmt.mb(before.rssBytes)]);
    for (const sample of samples) {
      rows.push([
        `${(sample.atMs / 1000).toFixed(1)} s`,
        fmt.int(sample.sent),
        fmt.int(sample.received),
        fmt.int(sample.pending),
        fmt.int(sample.queueFullDrops),
        fmt.mb(sample.keptBytes),
        fmt.signedMb(sample.keptBytes - before.keptBytes),
        fmt.mb(sample.rssBytes),
      ]);
    }
    console.log(
      `\n  ${options.size} B datagrams at ${fmt.int(options.perSecond)}/s: the cap is ${fmt.int(cap.replies)} replies, ${fmt.mb(cap.bytes)} of them (${cap.binding} binds first)`,
    );
    console.log(table(rows));
    const last = samples[samples.length - 1];
    const growth = last.keptBytes - before.keptBytes;
    const held = samples.filter((sample) => sample.pending >= cap.replies);
    const rise = held.length > 0 ? Math.max(...held.map((sample) => sample.keptBytes)) - held[0].keptBytes : NaN;
    // What one held reply cost here, bookkeeping included: what every datagram received would cost without the cap.
    const perReply = growth / last.pending;
    log(
      `each held reply kept ≈ ${fmt.kb(perReply)} here; without the cap the ${fmt.int(last.received)} datagrams received would keep ≈ ${fmt.mb(perReply * last.received)}`,
    );
    log(`(${fmt.mb(uncappedBytes)} of it payload), growing until the first reply left after ${MAX_DELAY_S} s`);
    log(`kept memory: heap used + external after a garbage collection in the server process. Allowed growth: the cap's bytes`);
    log(
      `+ ${fmt.kb(DELAYED_REPLY_OVERHEAD_BYTES)} per held reply + the capture buffer's ${fmt.mb(captureBytes)} + ${fmt.mb(DELAY_FLOOD_SLACK_BYTES)} for the rest of the process = ${fmt.mb(allowed)}; once the queue is full it must stay flat.`,
    );
    check(
      `delay flood ${options.size} B: replies held`,
      fmt.int(last.pending),
      `≤ ${fmt.int(cap.replies)} (the cap)`,
      last.pending <= cap.replies,
    );
    check(`delay flood ${options.size} B: kept memory growth`, fmt.signedMb(growth), `≤ ${fmt.mb(allowed)}`, growth <= allowed);
    check(
      `delay flood ${options.size} B: rise once the queue is full`,
      Number.isNaN(rise) ? 'queue never full' : fmt.signedMb(rise),
      `≤ ${fmt.mb(TARGET.delayFloodRiseBytes)}`,
      rise <= TARGET.delayFloodRiseBytes,
    );
  }
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

function printBurstStall({ idle, during, burst, wallMs }: BurstStall): void {
  const achieved = burst.achievedRate === undefined ? 'n/a' : `${fmt.int(burst.achievedRate)}/s`;
  log(
    `sent ${fmt.int(burst.sent)} of ${fmt.int(burst.count)}${burst.cancelled ? ' (deadline)' : ''} in ${(wallMs / 1000).toFixed(1)} s, at ${achieved}; answered ${fmt.int(burst.received)}, lost ${fmt.pct(burst.lossPercent, 1)}`,
  );
  const rows = [['while', 'event loop delay max', 'largest 5 ms timer gap', 'CPU in that gap', 'most CPU between ticks', 'timer ticks']];
  for (const [name, figures] of [
    ['idle (1 s)', idle],
    ['the burst', during],
  ] as const) {
    const { maxDelayMs, maxTimerGapMs, cpuInLargestGapMs, mostCpuBetweenTicksMs, ticks } = figures;
    rows.push([name, fmt.ms(maxDelayMs), fmt.ms(maxTimerGapMs), fmt.ms(cpuInLargestGapMs), fmt.ms(mostCpuBetweenTicksMs), fmt.int(ticks)]);
  }
  console.log(table(rows));
  console.log('  idle: the same process doing nothing, just before: what a busy machine alone costs. The burst yields every 4 ms.');
  console.log("  CPU in that gap: this process's CPU time during the largest gap; far below the gap, the process waited for a core.");
  console.log('  most CPU between ticks: the longest its own work (the burst, replies, garbage collection; all its threads, so an upper');
  console.log('  bound) kept the timer waiting.');
  const worst = Math.max(during.maxDelayMs, during.maxTimerGapMs);
  check(
    `largest event-loop stall, ${fmt.int(BURST.count)}-datagram burst at max rate`,
    fmt.ms(worst),
    `< ${TARGET.burstStallMs} ms`,
    worst < TARGET.burstStallMs,
  );
  check(
    'most CPU of the bursting process between two 5 ms ticks',
    fmt.ms(during.mostCpuBetweenTicksMs),
    `< ${TARGET.burstStallMs} ms`,
    during.mostCpuBetweenTicksMs < TARGET.burstStallMs,
  );
}

async function measureFootprint(): Promise<unknown> {
  let bundle: Bundle | undefined;
  let bundleError: string | undefined;
  try {
    bundle = buildProductionBundle(repoRoot);
  } catch (error) {
    bundleError = (error as Error).message;
  }
  try {
    if (bundle) {
      log(
        `production bundle (the project's esbuild.mjs --production, built in a temp folder): ${fmt.kb(bundle.bytes)} minified, ${fmt.kb(bundle.gzipBytes)} gzipped`,
      );
      check('bundle size, minified', fmt.kb(bundle.bytes), `≤ ${fmt.kb(TARGET.bundleBytes)}`, bundle.bytes <= TARGET.bundleBytes);
    } else {
      log(`production bundle: could not build it — ${bundleError}`);
      check('bundle size, minified', 'not built', `≤ ${fmt.kb(TARGET.bundleBytes)}`, false);
    }
    log(`activate() needs VS Code, so these are its plain-Node parts, each in a fresh process (${ACTIVATION_RUNS} times):`);
    const core = await repeat(() => timeActivation(['core']));
    log(
      `  require Workbench + LogBatcher (tsc output, one file per module) and construct them: median ${fmt.ms(median(core))}, min ${fmt.ms(Math.min(...core))}`,
    );
    check('activation: core require + construct', fmt.ms(median(core)), `≤ ${TARGET.activationMs} ms`, median(core) <= TARGET.activationMs);
    let bundleLoad: number[] | string = 'no bundle';
    if (bundle) {
      try {
        bundleLoad = await repeat(() => timeActivation(['bundle', bundle!.file]));
        log(
          `  load the production bundle, 'vscode' stubbed, activate() not called: median ${fmt.ms(median(bundleLoad))}, min ${fmt.ms(Math.min(...bundleLoad))}`,
        );
        check(
          'activation: production bundle load',
          fmt.ms(median(bundleLoad)),
          `≤ ${TARGET.activationMs} ms`,
          median(bundleLoad) <= TARGET.activationMs,
        );
      } catch (error) {
        bundleLoad = (error as Error).message;
        log(`  load the production bundle: not measured — ${bundleLoad}`);
      }
    }
    return {
      bundleBytes: bundle?.bytes,
      bundleGzipBytes: bundle?.gzipBytes,
      bundleError,
      activationCoreMs: core,
      bundleLoadMs: bundleLoad,
    };
  } finally {
    bundle?.dispose();
  }
}

async function repeat(measureOnce: () => Promise<number>): Promise<number[]> {
  const values: number[] = [];
  for (let i = 0; i < ACTIVATION_RUNS; i++) values.push(await measureOnce());
  return values;
}

function summarise(results: readonly ScenarioResult[]): unknown {
  return results.map(({ scenario, runs, ratios }) => ({
    scenario,
    median: Object.fromEntries(
      CONTENDERS.map((kind) => [
        kind,
        {
          roundTripsPerSecond: medianOf(runs[kind], (r) => r.roundTripsPerSecond),
          p50Ms: medianOf(runs[kind], (r) => r.p50Ms),
          p99Ms: medianOf(runs[kind], (r) => r.p99Ms),
          lossPercent: medianOf(runs[kind], (r) => r.lossPercent),
          serverMicrosPerDatagram: medianOf(runs[kind], (r) => r.serverMicrosPerDatagram),
          serverCpuPercent: medianOf(runs[kind], (r) => r.serverCpuPercent),
          generatorCpuPercent: medianOf(runs[kind], (r) => r.cpuPercent),
        },
      ]),
    ),
    ratios: Object.fromEntries(
      VARIANT_ROWS.map(({ variant }) => [
        variant,
        {
          throughputRatio: median(ratios[variant].throughput),
          p50Ratio: median(ratios[variant].p50),
          cpuRatio: median(ratios[variant].cpu),
          ...ratios[variant],
        },
      ]),
    ),
    runs,
  }));
}

function selectedPhases(list: string | undefined): ReadonlySet<Phase> {
  if (list === undefined || list.trim() === '') return new Set(ALL_PHASES);
  const names = list.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !(ALL_PHASES as readonly string[]).includes(name));
  if (unknown.length > 0) {
    console.error(
      `bench: BENCH_PHASES names ${unknown.join(', ')}, which is no phase; pick from ${ALL_PHASES.join(', ')} (comma-separated).`,
    );
    process.exit(2);
  }
  return new Set(names as Phase[]);
}

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes; giving up.`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('bench failed:', error);
    process.exit(1);
  },
);
