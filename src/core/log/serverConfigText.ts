import type { ServerConfiguration } from '../events';
import { describeSimulation } from '../impairment/simulationSpec';
import type { ReplyMode, ServerProtection } from '../configuration';

/** "mirror", "template "Data received: ${text}"" or "none (listening only)". */
export function describeReply(mode: ReplyMode, template: string | undefined): string {
  if (mode === 'template') return `template ${JSON.stringify(template ?? '')}`;
  return mode === 'none' ? 'none (listening only)' : 'mirror';
}

/** "1000/s per peer, bursts of 2000, loopback exempt; amplification guard on", or "no rate limit; …". */
export function describeProtection({ rateLimit, allowAmplification }: ServerProtection): string {
  const limit =
    rateLimit === false
      ? 'no rate limit'
      : `rate limit ${rateLimit.perSecond}/s per peer, bursts of ${rateLimit.burst}${rateLimit.exemptLoopback ? ', loopback exempt' : ''}`;
  return `${limit}; amplification guard ${allowAmplification ? 'off' : 'on'}`;
}

/** What a running server now does after a live change: "replies: none (listening only)". */
export function describeConfiguration(configuration: ServerConfiguration): string {
  switch (configuration.change) {
    case 'reply':
      return `replies: ${describeReply(configuration.replyMode, configuration.template)}`;
    case 'simulation':
      return `simulation: ${describeSimulation(configuration.simulation)}`;
    case 'protection':
      return describeProtection(configuration);
  }
}
