// Phase 'cli': `udpw echo` (its log on stdout, to a file) against the plainest Node echo, CPU per datagram.
import * as path from 'node:path';
import { buildCLoadGenerator } from './cLoadGenerator';
import { cliEchoBench, CLI_ECHO, reportCliEcho } from './cliEcho';
import { heading } from './report';
import { check, log, repoRoot } from './targets';

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runCli(): Promise<Record<string, unknown>> {
  heading('udpw echo (log on stdout, to a file) vs the plainest Node echo — CPU per datagram, saturated by the C generator');
  const generate = buildCLoadGenerator(repoRoot, path.join(__dirname, 'native'));
  if ('unavailable' in generate) {
    log(`skipped: the C load generator is unavailable: ${generate.unavailable}`);
    return {};
  }
  return { cliEcho: await reportCliEcho(await cliEchoBench(generate, repoRoot, CLI_ECHO, log), check, log) };
}
