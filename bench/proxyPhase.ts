// Phase 'proxy': the impairment proxy as shipped against the plainest Node relay; its loss and its sessions' memory.
import { fmt, heading, median } from './report';
import { proxyBench, type ProxyBenchResult } from './proxy';
import { check, log, TARGET } from './targets';

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

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runProxy(): Promise<Record<string, unknown>> {
  heading(
    `Impairment proxy vs the plainest Node relay — ${PROXY_BENCH.rounds} rounds of ${fmt.int(PROXY_BENCH.count)} round trips, window ${PROXY_BENCH.window}, medians`,
  );
  const proxy = await proxyBench(PROXY_BENCH, log);
  checkProxy(proxy);
  return { proxy };
}

function checkProxy({ ours, baseline, ratios, loss, sessions }: ProxyBenchResult): void {
  const throughput = median(ratios.throughput);
  const p50 = median(ratios.p50);
  log(
    `ours ${fmt.int(ours.roundTripsPerSecond)} round trips/s, p50 ${fmt.ms(ours.p50Ms)}; plain relay ${fmt.int(baseline.roundTripsPerSecond)}/s, p50 ${fmt.ms(baseline.p50Ms)}`,
  );
  log(
    `CPU of this process (client and relay) per round trip: ours ${ours.cpuMicrosPerRoundTrip.toFixed(1)} µs, plain relay ${baseline.cpuMicrosPerRoundTrip.toFixed(1)} µs (plain/ours ${fmt.ratio(median(ratios.cpu))})`,
  );
  const rounds = (values: number[]): string => values.map((x) => x.toFixed(2)).join(' ');
  log(`ours/plain per round: throughput ${rounds(ratios.throughput)}; p50 ${rounds(ratios.p50)}; CPU plain/ours ${rounds(ratios.cpu)}`);
  const cpu = median(ratios.cpu);
  check(
    'proxy round trips/s vs plain relay',
    fmt.ratio(throughput),
    `≥ ${TARGET.proxyThroughputRatio}×`,
    throughput >= TARGET.proxyThroughputRatio,
  );
  check('proxy CPU per round trip plain/ours', fmt.ratio(cpu), `≥ ${TARGET.proxyCpuRatio}×`, cpu >= TARGET.proxyCpuRatio);
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
