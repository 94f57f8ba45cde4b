// Phase 'burst': the event loop's longest stall while a million-datagram burst leaves this process.
import { burstStall, type BurstStall } from './burstStall';
import { fmt, heading, table } from './report';
import { check, log, TARGET } from './targets';

const BURST = { count: 1_000_000, ratePerSecond: 1_000_000, deadlineMs: 60_000 };

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runBurst(): Promise<Record<string, unknown>> {
  heading(
    `Event-loop stall: a burst of ${fmt.int(BURST.count)} at ${fmt.int(BURST.ratePerSecond)}/s from this process to ours (at most ${BURST.deadlineMs / 1000} s)`,
  );
  const stall = await burstStall(BURST.count, BURST.ratePerSecond, BURST.deadlineMs);
  printBurstStall(stall);
  return { burstStall: stall };
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
