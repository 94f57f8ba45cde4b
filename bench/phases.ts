import { NO_SIMULATION } from '../src/core/impairment/impairment';
import type { CLoadGenerator } from './cLoadGenerator';
import { runLoad, type LoadResult } from './loadGenerator';
import { median } from './report';
import { ServerUnderTest, type ServerKind, type ServerSample } from './servers';

export interface Scenario {
  readonly name: string;
  readonly size: number;
  readonly window: number;
  readonly count: number;
}

export interface Run extends LoadResult {
  /** CPU of the server process over the run, % of one core. */
  readonly serverCpuPercent: number;
  /** Server CPU time per datagram answered, µs: what the server's code costs, however busy the machine is. */
  readonly serverMicrosPerDatagram: number;
  /** Ours only: datagrams the server received, to tell losses on the way in from losses on the way back. */
  readonly serverReceived?: number;
  /** Ours only: datagrams the capture recorded over the run, against what the server received and replied (copies). */
  readonly captured?: { recorded: number; expected: number };
  /** Ours only: log sink flushes and lines written per second during the run. */
  readonly flushesPerSecond?: number;
  readonly linesPerSecond?: number;
}

/**
 * The servers of the comparison: ours as shipped (everything activate() builds around the core: shippedViews.ts),
 * ours with the traffic view open and following too, and the plainest Node echo.
 */
export const CONTENDERS = ['ours', 'traffic', 'baseline'] as const;
export type Contender = (typeof CONTENDERS)[number];
export type Variant = Exclude<Contender, 'baseline'>;

/** A fresh process for each server of the comparison, warmed up with 20,000 datagrams of each size. */
export async function startContenders(): Promise<Record<Contender, ServerUnderTest>> {
  const servers: Record<Contender, ServerUnderTest> = {
    ours: await ServerUnderTest.start({ kind: 'ours' }),
    traffic: await ServerUnderTest.start({ kind: 'ours', trafficViewOpen: true }),
    baseline: await ServerUnderTest.start({ kind: 'baseline' }),
  };
  for (const server of Object.values(servers)) {
    for (const size of [64, 1400]) await measure(server, { name: 'warm-up', size, window: 64, count: 20_000 });
  }
  return servers;
}

/** The servers' order in a round: reversed every other round (A B C, C B A, …). */
function roundOrder(round: number): readonly Contender[] {
  return round % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
}

export function stopContenders(servers: Record<Contender, ServerUnderTest>): Promise<void[]> {
  return Promise.all(Object.values(servers).map((server) => server.stop()));
}

/** One variant against the baseline: one ratio per round, each from two runs of the same round. */
export interface Ratios {
  /** Variant / baseline. */
  readonly throughput: number[];
  readonly p50: number[];
  /** Plain / variant server CPU per datagram: the throughput ratio both would reach if each had a core to itself. */
  readonly cpu: number[];
}

export interface ScenarioResult {
  readonly scenario: Scenario;
  readonly runs: Record<Contender, Run[]>;
  readonly ratios: Record<Variant, Ratios>;
}

const PHASE_DEADLINE_MS = 20_000;

/** One run of a scenario against one server, with the server's CPU and log sink figures around it. */
export async function measure(server: ServerUnderTest, scenario: Scenario, deadlineMs = PHASE_DEADLINE_MS): Promise<Run> {
  const before = await server.sample();
  const load = await runLoad({ port: server.port, size: scenario.size, window: scenario.window, count: scenario.count, deadlineMs });
  const after = await server.sample();
  const cpuMicros = after.cpuMicros - before.cpuMicros;
  return {
    ...load,
    serverCpuPercent: (cpuMicros / 1000 / load.durationMs) * 100,
    serverMicrosPerDatagram: cpuMicros / load.answered,
    serverReceived: after.counters && before.counters ? after.counters.received - before.counters.received : undefined,
    captured: captureCounts(before, after),
    ...logRates(before, after, load.durationMs),
  };
}

function captureCounts(before: ServerSample, after: ServerSample): Run['captured'] {
  if (!before.capture || !after.capture || !before.counters || !after.counters) return undefined;
  const expected = after.counters.received - before.counters.received + after.counters.replies - before.counters.replies;
  return { recorded: after.capture.recorded - before.capture.recorded, expected };
}

function logRates(before: ServerSample, after: ServerSample, durationMs: number): Pick<Run, 'flushesPerSecond' | 'linesPerSecond'> {
  if (!before.log || !after.log) return {};
  const seconds = durationMs / 1000;
  return {
    flushesPerSecond: (after.log.flushes - before.log.flushes) / seconds,
    linesPerSecond: (after.log.lines - before.log.lines) / seconds,
  };
}

/**
 * Every scenario against every server, round after round. Within a round the runs of a scenario follow each other,
 * and the order of the servers reverses from round to round (A B C, C B A, …), so drift in a noisy machine's speed
 * falls on all alike; each ratio is taken within one round.
 */
export async function compare(
  servers: Record<Contender, ServerUnderTest>,
  scenarios: readonly Scenario[],
  rounds: number,
  progress: (line: string) => void,
): Promise<ScenarioResult[]> {
  const noRatios = (): Ratios => ({ throughput: [], p50: [], cpu: [] });
  const results: ScenarioResult[] = scenarios.map((scenario) => ({
    scenario,
    runs: { ours: [], traffic: [], baseline: [] },
    ratios: { ours: noRatios(), traffic: noRatios() },
  }));
  for (let round = 0; round < rounds; round++) {
    const order = roundOrder(round);
    for (const result of results) {
      const runs = {} as Record<Contender, Run>;
      for (const kind of order) runs[kind] = await measure(servers[kind], result.scenario);
      const baseline = runs.baseline;
      for (const kind of CONTENDERS) result.runs[kind].push(runs[kind]);
      for (const variant of ['ours', 'traffic'] as const) {
        const ratios = result.ratios[variant];
        ratios.throughput.push(runs[variant].roundTripsPerSecond / baseline.roundTripsPerSecond);
        ratios.p50.push(runs[variant].p50Ms / baseline.p50Ms);
        ratios.cpu.push(baseline.serverMicrosPerDatagram / runs[variant].serverMicrosPerDatagram);
      }
    }
    progress(`round ${round + 1}/${rounds} done`);
  }
  return results;
}

/** One run of the CPU comparison: one server kept busy by the C generator. */
export interface CpuRun {
  readonly microsPerDatagram: number;
  readonly serverCpuPercent: number;
  readonly generatorCpuPercent: number;
  readonly lost: number;
}

export interface CpuComparison {
  readonly size: number;
  readonly runs: Record<Contender, CpuRun[]>;
  /** Plain / variant server CPU per datagram, one per round, each from runs of the same round. */
  readonly ratios: Record<Variant, number[]>;
}

export interface CpuComparisonOptions {
  readonly sizes: readonly number[];
  readonly window: number;
  /**
   * Fresh server processes, one after another: two processes running the same code can differ by a few per cent for
   * their whole life (where the JIT and the allocator put things), so no one process decides the figure.
   */
  readonly processes: number;
  /** Rounds per process. */
  readonly rounds: number;
  /** Datagrams answered per run. */
  readonly count: number;
}

/**
 * Server CPU per datagram with the server saturated by the C generator, in many short runs: within a round the
 * servers follow each other and their order reverses from round to round, so a noisy machine's drift falls on all
 * alike, and each ratio is taken within one round.
 */
export async function compareCpu(
  generate: CLoadGenerator,
  options: CpuComparisonOptions,
  progress: (line: string) => void,
): Promise<CpuComparison[]> {
  const results: CpuComparison[] = options.sizes.map((size) => ({
    size,
    runs: { ours: [], traffic: [], baseline: [] },
    ratios: { ours: [], traffic: [] },
  }));
  for (let set = 1; set <= options.processes; set++) {
    const servers = await startContenders();
    try {
      for (let round = 0; round < options.rounds; round++) {
        const order = roundOrder(round);
        for (const result of results) await cpuRound(servers, order, generate, options, result);
      }
    } finally {
      await stopContenders(servers);
    }
    progress(`CPU: ${options.rounds} rounds with server processes ${set}/${options.processes} done`);
  }
  return results;
}

async function cpuRound(
  servers: Record<Contender, ServerUnderTest>,
  order: readonly Contender[],
  generate: CLoadGenerator,
  options: CpuComparisonOptions,
  result: CpuComparison,
): Promise<void> {
  const runs = {} as Record<Contender, CpuRun>;
  for (const kind of order) {
    const server = servers[kind];
    const before = await server.sample();
    const load = await generate({
      port: server.port,
      size: result.size,
      window: options.window,
      count: options.count,
      deadlineMs: PHASE_DEADLINE_MS,
    });
    const after = await server.sample();
    const cpuMicros = after.cpuMicros - before.cpuMicros;
    runs[kind] = {
      microsPerDatagram: cpuMicros / load.answered,
      serverCpuPercent: (cpuMicros / 1000 / load.durationMs) * 100,
      generatorCpuPercent: load.cpuPercent,
      lost: load.lost,
    };
    result.runs[kind].push(runs[kind]);
  }
  for (const variant of ['ours', 'traffic'] as const) {
    result.ratios[variant].push(runs.baseline.microsPerDatagram / runs[variant].microsPerDatagram);
  }
}

export function medianOf<R>(runs: readonly R[], pick: (run: R) => number | undefined): number {
  return median(runs.map(pick).filter((value): value is number => value !== undefined));
}

export interface DropCheck {
  readonly dropPercent: number;
  readonly load: LoadResult;
  /** What the server itself counted as dropped by the simulation. */
  readonly simulatedDrops: number;
  readonly received: number;
}

/** Our server with a simulated inbound drop, a fresh process so the seeded sequence starts from the seed. */
export async function dropAccuracy(count: number, dropPercent: number): Promise<DropCheck> {
  const server = await ServerUnderTest.start({ kind: 'ours', simulation: { ...NO_SIMULATION, dropInbound: dropPercent / 100 } });
  try {
    const load = await runLoad({ port: server.port, size: 64, window: 64, count, deadlineMs: 60_000 });
    const { counters } = await server.sample();
    return { dropPercent, load, simulatedDrops: counters!.droppedBy['simulated-loss-inbound'], received: counters!.received };
  } finally {
    await server.stop();
  }
}

export interface Flood {
  readonly load: LoadResult;
  readonly start: ServerSample;
  readonly middle: ServerSample;
  readonly end: ServerSample;
  readonly serverCpuPercent: number;
  readonly serverMicrosPerDatagram: number;
  readonly flushesPerSecond: number;
  readonly linesPerSecond: number;
}

/**
 * A long run against a fresh server process of one kind: memory (after a garbage collection) sampled at the
 * start, when half the datagrams are answered, and at the end; the log sink's flush rate over the whole flood.
 */
export async function flood(kind: ServerKind, count: number, deadlineMs: number): Promise<Flood> {
  const server = await ServerUnderTest.start({ kind });
  try {
    await runLoad({ port: server.port, size: 64, window: 64, count: 20_000, deadlineMs: 10_000 });
    const start = await server.sample(true);
    let middle: Promise<ServerSample> | undefined;
    const load = await runLoad({
      port: server.port,
      size: 64,
      window: 64,
      count,
      deadlineMs,
      onHalfway: () => (middle = server.sample(true)),
    });
    const end = await server.sample(true);
    const seconds = load.durationMs / 1000;
    return {
      load,
      start,
      middle: await (middle ?? Promise.reject(new Error('the flood never reached its halfway mark'))),
      end,
      serverCpuPercent: ((end.cpuMicros - start.cpuMicros) / 1000 / load.durationMs) * 100,
      serverMicrosPerDatagram: (end.cpuMicros - start.cpuMicros) / load.answered,
      flushesPerSecond: end.log ? (end.log.flushes - start.log!.flushes) / seconds : NaN,
      linesPerSecond: end.log ? (end.log.lines - start.log!.lines) / seconds : NaN,
    };
  } finally {
    await server.stop();
  }
}
