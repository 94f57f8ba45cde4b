// Phase 'drop': the simulated inbound drop's accuracy over many datagrams.
import { dropAccuracy } from './phases';
import { fmt, heading } from './report';
import { check, log } from './targets';

const DROP = { count: 100_000, percent: 10, tolerance: 1 };

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runDrop(): Promise<Record<string, unknown>> {
  heading(`Simulated ${DROP.percent} % inbound drop, ${fmt.int(DROP.count)} datagrams, ours`);
  const drop = await dropAccuracy(DROP.count, DROP.percent);
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
  return { drop };
}
