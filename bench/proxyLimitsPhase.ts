// Phase 'proxy-limits': the impairment proxy's delay queue under a 60 s delay flood, and one remote address against
// every session while a client on this machine is still answered.
import { proxyLimitsPhase } from './proxyLimits';
import { heading } from './report';
import { check, log } from './targets';

/** Runs the phase, prints its figures and records its checks; returns what goes into the results file. */
export async function runProxyLimits(): Promise<Record<string, unknown>> {
  heading('Impairment proxy limits: a 60 s delay flooded from 127.0.0.1; one remote address against every session');
  return { proxyLimits: await proxyLimitsPhase(check, log) };
}
