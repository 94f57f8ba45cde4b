// `npm run bench`: our echo server core (event stream, counters, batched log sink into memory) against the plainest
// Node dgram echo, on loopback, plus the drop-simulation accuracy, a 1,000,000-datagram flood, bundle size and
// activation cost. Prints every figure with its target, and writes bench-results/latest.json.
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { burstStall, type BurstStall } from './burstStall';
import { buildProductionBundle, timeActivation, type Bundle } from './footprint';
import { compare, dropAccuracy, flood, measure, medianOf, type Flood, type Run, type Scenario, type ScenarioResult } from './phases';
import { checksTable, fmt, heading, median, table, writeJson, type Check } from './report';
import { ServerUnderTest, type ServerKind } from './servers';

const ROUNDS = 9;
const SCENARIOS: readonly Scenario[] = [
  { name: '64 B, window 64', size: 64, window: 64, count: 60_000 },
  { name: '1400 B, window 64', size: 1400, window: 64, count: 60_000 },
  { name: '64 B, ping-pong', size: 64, window: 1, count: 25_000 },
  { name: '1400 B, ping-pong', size: 1400, window: 1, count: 25_000 },
];
const DROP = { count: 100_000, percent: 10, tolerance: 1 };
const FLOOD = { count: 1_000_000, deadlineMs: 60_000 };
const BURST = { count: 1_000_000, ratePerSecond: 1_000_000, deadlineMs: 60_000 };
const ACTIVATION_RUNS = 5;
/** A load generator this busy may be what limits the round trips, rather than the server. */
const GENERATOR_BOUND_PERCENT = 90;
/** Whatever happens, the bench ends: every phase has its own deadline, and this is the last resort. */
const WATCHDOG_MS = 10 * 60_000;

const TARGET = {
  throughputRatio: 0.9,
  p50Ratio: 1.2,
  flushesPerSecond: 5,
  heapGrowthBytes: 2 * 1024 * 1024,
  rssOutsideHeapGrowthBytes: 8 * 1024 * 1024,
  bundleBytes: 100 * 1024,
  activationMs: 30,
  burstStallMs: 50,
};

const repoRoot = path.resolve(__dirname, '..', '..');
const checks: Check[] = [];
const check = (name: string, value: string, target: string, pass: boolean): void => void checks.push({ name, value, target, pass });
const log = (line: string): void => console.log(`  ${line}`);
const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(' ');

async function main(): Promise<void> {
  const started = performance.now();
  const cpus = os.cpus();
  const machine = { node: process.version, platform: `${os.platform()} ${os.release()}`, cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, loadAtStart: os.loadavg() };
  console.log(`UDP Workbench bench — ${new Date().toISOString()}`);
  console.log(`${machine.node} on ${machine.platform}, ${machine.cores} × ${machine.cpu}; load average ${loadAverage()}`);
  if (os.loadavg()[0] > machine.cores) console.log(`  (more runnable processes than cores: expect noisy figures; the ratios below pair runs taken seconds apart)`);

  heading(`Ours vs plain dgram echo — ${ROUNDS} rounds, medians`);
  const servers = { ours: await ServerUnderTest.start({ kind: 'ours' }), baseline: await ServerUnderTest.start({ kind: 'baseline' }) };
  let comparison: ScenarioResult[];
  try {
    for (const server of Object.values(servers)) {
      for (const size of [64, 1400]) await measure(server, { name: 'warm-up', size, window: 64, count: 20_000 });
    }
    log('warmed up both servers (20,000 datagrams of each size)');
    comparison = await compare(servers, SCENARIOS, ROUNDS, log);
  } finally {
    await Promise.all(Object.values(servers).map((server) => server.stop()));
  }
  printComparison(comparison);

  heading(`Simulated ${DROP.percent} % inbound drop, ${fmt.int(DROP.count)} datagrams, ours`);
  const drop = await dropAccuracy(DROP.count, DROP.percent);
  const unexplained = drop.load.lost - drop.simulatedDrops;
  log(`sent ${fmt.int(drop.load.sent)}, answered ${fmt.int(drop.load.answered)}, lost ${fmt.int(drop.load.lost)} → measured loss ${fmt.pct(drop.load.lossPercent, 3)}`);
  log(`the server counted ${fmt.int(drop.simulatedDrops)} simulated drops of ${fmt.int(drop.received)} received; losses the simulation does not explain: ${unexplained}`);
  check(`loss with ${DROP.percent} % simulated drop`, fmt.pct(drop.load.lossPercent, 3), `${DROP.percent} ± ${DROP.tolerance} %`, Math.abs(drop.load.lossPercent - DROP.percent) <= DROP.tolerance);

  heading(`Flood: ${fmt.int(FLOOD.count)} datagrams of 64 B, window 64, fresh server process (at most ${FLOOD.deadlineMs / 1000} s each)`);
  const floods = { ours: await flood('ours', FLOOD.count, FLOOD.deadlineMs), baseline: await flood('baseline', FLOOD.count, FLOOD.deadlineMs) };
  printFloods(floods);

  heading(`Event-loop stall: a burst of ${fmt.int(BURST.count)} at ${fmt.int(BURST.ratePerSecond)}/s from this process to ours (at most ${BURST.deadlineMs / 1000} s)`);
  const stall = await burstStall(BURST.count, BURST.ratePerSecond, BURST.deadlineMs);
  printBurstStall(stall);

  heading('Footprint');
  const footprint = await measureFootprint();

  const totalSeconds = (performance.now() - started) / 1000;
  heading('Targets');
  console.log(checksTable(checks));
  const results = { machine: { ...machine, loadAtEnd: os.loadavg() }, totalSeconds, rounds: ROUNDS, targets: TARGET, comparison: summarise(comparison), drop, floods, burstStall: stall, footprint, checks };
  const file = writeJson(repoRoot, results);
  const missed = checks.filter((c) => !c.pass).length;
  console.log(`\n${checks.length - missed}/${checks.length} targets met. Load average now ${loadAverage()}. Results: ${path.relative(repoRoot, file)}. Total time ${totalSeconds.toFixed(1)} s.`);
}

function printComparison(results: readonly ScenarioResult[]): void {
  const latency = [['scenario', 'ours rt/s', 'plain rt/s', 'ratio', 'ours p50', 'plain p50', 'ratio', 'ours p99', 'plain p99', 'lost ours/plain']];
  const cpu = [['scenario', 'ours µs/dgram', 'plain µs/dgram', 'plain/ours', 'server CPU ours', 'plain', 'generator CPU', 'generator-bound runs']];
  for (const { scenario, runs, throughputRatios, p50Ratios, cpuRatios } of results) {
    const m = (kind: ServerKind, pick: (run: Run) => number): number => medianOf(runs[kind], pick);
    const lost = (kind: ServerKind): number => runs[kind].reduce((sum, run) => sum + run.lost, 0);
    const all = [...runs.ours, ...runs.baseline];
    latency.push([
      scenario.name,
      fmt.int(m('ours', (r) => r.roundTripsPerSecond)),
      fmt.int(m('baseline', (r) => r.roundTripsPerSecond)),
      fmt.ratio(median(throughputRatios)),
      fmt.ms(m('ours', (r) => r.p50Ms)),
      fmt.ms(m('baseline', (r) => r.p50Ms)),
      fmt.ratio(median(p50Ratios)),
      fmt.ms(m('ours', (r) => r.p99Ms)),
      fmt.ms(m('baseline', (r) => r.p99Ms)),
      `${lost('ours')}/${lost('baseline')}`,
    ]);
    cpu.push([
      scenario.name,
      m('ours', (r) => r.serverMicrosPerDatagram).toFixed(2),
      m('baseline', (r) => r.serverMicrosPerDatagram).toFixed(2),
      fmt.ratio(median(cpuRatios)),
      fmt.pct(m('ours', (r) => r.serverCpuPercent), 0),
      fmt.pct(m('baseline', (r) => r.serverCpuPercent), 0),
      fmt.pct(median(all.map((r) => r.cpuPercent)), 0),
      `${all.filter((r) => r.cpuPercent >= GENERATOR_BOUND_PERCENT).length}/${all.length}`,
    ]);
    check(`throughput ${scenario.name}`, fmt.ratio(median(throughputRatios)), `≥ ${TARGET.throughputRatio}×`, median(throughputRatios) >= TARGET.throughputRatio);
    check(`p50 round trip ${scenario.name}`, fmt.ratio(median(p50Ratios)), `≤ ${TARGET.p50Ratio}×`, median(p50Ratios) <= TARGET.p50Ratio);
    if (scenario.window > 1) {
      check(`server CPU/datagram plain/ours ${scenario.name}`, fmt.ratio(median(cpuRatios)), `≥ ${TARGET.throughputRatio}×`, median(cpuRatios) >= TARGET.throughputRatio);
    }
  }
  console.log(table(latency));
  console.log('  rt/s: round trips per second; ratio: median of the ours/plain ratios of each round; lost: summed over all rounds.');
  console.log();
  console.log(table(cpu));
  console.log(`  µs/dgram: server process CPU (user + system) per datagram answered. plain/ours: the throughput ratio when both servers`);
  console.log(`  are CPU-bound, unaffected by a busy machine or a generator that cannot keep up. CPU: % of one core, medians.`);
  console.log(`  generator-bound: runs where the load generator used ≥ ${GENERATOR_BOUND_PERCENT} % of a core (its limit, not the server's, may set the pace).`);
  for (const run of results.flatMap((r) => r.runs.ours.filter((o) => o.lost > 0))) {
    const neverArrived = run.serverReceived === undefined ? '?' : run.sent - run.serverReceived;
    log(`ours lost ${run.lost} of ${fmt.int(run.sent)} in one run, ${neverArrived} of them before reaching the server (a full socket receive buffer).`);
  }
  for (const r of results) {
    log(`${r.scenario.name}, ours/plain per round: throughput ${r.throughputRatios.map((x) => x.toFixed(2)).join(' ')}; CPU plain/ours ${r.cpuRatios.map((x) => x.toFixed(2)).join(' ')}`);
  }
}

function printFloods(floods: Record<ServerKind, Flood>): void {
  const heap = (s: Flood['start']): number => s.memory.heapUsed + s.memory.external;
  const rows = [['server', 'rt/s', 'lost', 'time', 'µs/dgram', 'heap start', 'middle', 'end', 'growth', 'RSS start', 'middle', 'end', 'growth', 'V8 reserved growth']];
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
  log(`log sink, ours: ${ours.flushesPerSecond.toFixed(2)} flushes/s, ${fmt.int(ours.linesPerSecond)} lines/s, ${fmt.int(ours.end.log!.notShown)} datagram events counted in summaries instead of shown`);
  check('datagrams answered in the flood (ours)', `${fmt.int(ours.load.answered)}/${fmt.int(FLOOD.count)}`, 'all, within the deadline', ours.load.answered === FLOOD.count);
  check('log sink flushes during the flood', `${ours.flushesPerSecond.toFixed(2)}/s`, `≤ ${TARGET.flushesPerSecond}/s`, ours.flushesPerSecond <= TARGET.flushesPerSecond);
  check('kept heap growth over the flood (ours)', fmt.signedMb(growth), `≤ ${fmt.mb(TARGET.heapGrowthBytes)}`, growth <= TARGET.heapGrowthBytes);
  check('RSS growth outside V8 heap (ours)', fmt.signedMb(outsideHeap), `≤ ${fmt.mb(TARGET.rssOutsideHeapGrowthBytes)}`, outsideHeap <= TARGET.rssOutsideHeapGrowthBytes);
}

function printBurstStall({ idle, during, burst, wallMs }: BurstStall): void {
  const achieved = burst.achievedRate === undefined ? 'n/a' : `${fmt.int(burst.achievedRate)}/s`;
  log(`sent ${fmt.int(burst.sent)} of ${fmt.int(burst.count)}${burst.cancelled ? ' (deadline)' : ''} in ${(wallMs / 1000).toFixed(1)} s, at ${achieved}; answered ${fmt.int(burst.received)}, lost ${fmt.pct(burst.lossPercent, 1)}`);
  const rows = [['while', 'event loop delay max', 'largest 5 ms timer gap', 'CPU in that gap', 'most CPU between ticks', 'timer ticks']];
  for (const [name, figures] of [['idle (1 s)', idle], ['the burst', during]] as const) {
    const { maxDelayMs, largestTimerGapMs, cpuInLargestGapMs, mostCpuBetweenTicksMs, ticks } = figures;
    rows.push([name, fmt.ms(maxDelayMs), fmt.ms(largestTimerGapMs), fmt.ms(cpuInLargestGapMs), fmt.ms(mostCpuBetweenTicksMs), fmt.int(ticks)]);
  }
  console.log(table(rows));
  console.log('  idle: the same process doing nothing, just before: what a busy machine alone costs. The burst yields every 4 ms.');
  console.log('  CPU in that gap: this process\'s CPU time during the largest gap; far below the gap, the process waited for a core.');
  console.log('  most CPU between ticks: the longest its own work (the burst, replies, garbage collection; all its threads, so an upper');
  console.log('  bound) kept the timer waiting.');
  const worst = Math.max(during.maxDelayMs, during.largestTimerGapMs);
  check(`largest event-loop stall, ${fmt.int(BURST.count)}-datagram burst at max rate`, fmt.ms(worst), `< ${TARGET.burstStallMs} ms`, worst < TARGET.burstStallMs);
  check('most CPU of the bursting process between two 5 ms ticks', fmt.ms(during.mostCpuBetweenTicksMs), `< ${TARGET.burstStallMs} ms`, during.mostCpuBetweenTicksMs < TARGET.burstStallMs);
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
      log(`production bundle (the project's esbuild.mjs --production, built in a temp folder): ${fmt.kb(bundle.bytes)} minified, ${fmt.kb(bundle.gzipBytes)} gzipped`);
      check('bundle size, minified', fmt.kb(bundle.bytes), `≤ ${fmt.kb(TARGET.bundleBytes)}`, bundle.bytes <= TARGET.bundleBytes);
    } else {
      log(`production bundle: could not build it — ${bundleError}`);
      check('bundle size, minified', 'not built', `≤ ${fmt.kb(TARGET.bundleBytes)}`, false);
    }
    log(`activate() needs VS Code, so these are its plain-Node parts, each in a fresh process (${ACTIVATION_RUNS} times):`);
    const core = await repeat(() => timeActivation(['core']));
    log(`  require Workbench + LogBatcher (tsc output, one file per module) and construct them: median ${fmt.ms(median(core))}, min ${fmt.ms(Math.min(...core))}`);
    check('activation: core require + construct', fmt.ms(median(core)), `≤ ${TARGET.activationMs} ms`, median(core) <= TARGET.activationMs);
    let bundleLoad: number[] | string = 'no bundle';
    if (bundle) {
      try {
        bundleLoad = await repeat(() => timeActivation(['bundle', bundle!.file]));
        log(`  load the production bundle, 'vscode' stubbed, activate() not called: median ${fmt.ms(median(bundleLoad))}, min ${fmt.ms(Math.min(...bundleLoad))}`);
        check('activation: production bundle load', fmt.ms(median(bundleLoad)), `≤ ${TARGET.activationMs} ms`, median(bundleLoad) <= TARGET.activationMs);
      } catch (error) {
        bundleLoad = (error as Error).message;
        log(`  load the production bundle: not measured — ${bundleLoad}`);
      }
    }
    return { bundleBytes: bundle?.bytes, bundleGzipBytes: bundle?.gzipBytes, bundleError, activationCoreMs: core, bundleLoadMs: bundleLoad };
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
  return results.map(({ scenario, runs, throughputRatios, p50Ratios, cpuRatios }) => ({
    scenario,
    median: Object.fromEntries(
      (['ours', 'baseline'] as const).map((kind) => [
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
    throughputRatio: median(throughputRatios),
    p50Ratio: median(p50Ratios),
    cpuRatio: median(cpuRatios),
    throughputRatios,
    p50Ratios,
    cpuRatios,
    runs,
  }));
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
