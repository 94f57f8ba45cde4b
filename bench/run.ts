// `npm run bench`: UDP Workbench as shipped (the objects activate() builds around the core, shippedViews.ts) against
// the plainest Node dgram echo and relay, on loopback, plus the drop-simulation accuracy, floods, delay queues, a
// burst's stalls, parsing large `.udp` files and hostile `@expect matches` patterns, bundle size and activation cost.
// Each phase is a module of its own (bench/*Phase.ts); this file picks the phases, runs them in order, prints every
// figure's check and writes bench-results/latest.json.
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runBurst } from './burstPhase';
import { runCli } from './cliPhase';
import { runComparison } from './comparisonPhase';
import { runDelay } from './delayPhase';
import { runDrop } from './dropPhase';
import { runFlood } from './floodPhase';
import { runFootprint } from './footprintPhase';
import { runParsing } from './parsingPhase';
import { runProxy } from './proxyPhase';
import { runProxyLimits } from './proxyLimitsPhase';
import { checksTable, heading, writeJson } from './report';
import { runSources } from './sourcesPhase';
import { checks, repoRoot, TARGET } from './targets';

/** `BENCH_PHASES=comparison,flood` runs only those phases (while iterating on one figure); all of them by default. */
const ALL_PHASES = [
  'comparison',
  'drop',
  'flood',
  'sources',
  'delay',
  'parsing',
  'burst',
  'proxy',
  'proxy-limits',
  'cli',
  'footprint',
] as const;
type Phase = (typeof ALL_PHASES)[number];
const RUNNERS: Record<Phase, () => Promise<Record<string, unknown>>> = {
  comparison: runComparison,
  drop: runDrop,
  flood: runFlood,
  sources: runSources,
  delay: runDelay,
  parsing: runParsing,
  burst: runBurst,
  proxy: runProxy,
  'proxy-limits': runProxyLimits,
  cli: runCli,
  footprint: runFootprint,
};
const PHASES = selectedPhases(process.env.BENCH_PHASES);
/**
 * Whatever happens, the bench ends: every phase has its own deadline, and this is the last resort. Generous: on a
 * shared 2-core machine (load average 12–20) the comparison phase alone took over 25 minutes.
 */
const WATCHDOG_MS = 60 * 60_000;
const loadAverage = (): string =>
  os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');

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

  const measured: Record<string, unknown> = {};
  for (const phase of ALL_PHASES) {
    if (PHASES.has(phase)) Object.assign(measured, await RUNNERS[phase]());
  }

  const totalSeconds = (performance.now() - started) / 1000;
  heading('Targets');
  console.log(checksTable(checks));
  const results = {
    machine: { ...machine, loadAtEnd: os.loadavg() },
    phases: [...PHASES],
    totalSeconds,
    targets: TARGET,
    ...measured,
    checks,
  };

  const file = writeJson(repoRoot, results);
  const missed = checks.filter((c) => !c.pass).length;
  console.log(
    `\n${checks.length - missed}/${checks.length} targets met. Load average now ${loadAverage()}. Results: ${path.relative(repoRoot, file)}. Total time ${totalSeconds.toFixed(1)} s.`,
  );
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
