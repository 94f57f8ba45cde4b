import { formatEndpoint, isLoopback, parseEndpoint, type Endpoint } from '../core/endpoint';
import { Workbench } from '../core/workbench/workbench';
import { startCapture, type RunningCapture } from './capture';
import { settingDefault } from './defaults';
import { logEvents } from './eventLog';
import type { Terminal } from './terminal';
import { readOption, UsageError } from './usage';
import type { RateLimitSettings } from '../core/configuration';

/** Options `echo` and `proxy` share: how they log, capture and protect themselves from other machines. */
export const SERVING_OPTIONS = {
  json: { type: 'boolean' },
  capture: { type: 'string' },
  'allow-amplification': { type: 'boolean' },
  'rate-limit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVING_HELP = `  --json                 every event as one JSON object per line (payloads in base64) instead of log lines
  --capture FILE.pcapng  write every datagram to a capture Wireshark opens
  --rate-limit N         datagrams per second each peer on another machine may send (default 1000; 0: no limit)
  --allow-amplification  let replies to other machines be larger than their request, and duplicates reach them
  -h, --help             show this help`;

/** The editor's protection for peers on other machines, with what the command line changed. */
export function protection(
  rateLimitText: string | undefined,
  allowAmplification: boolean | undefined,
): { rateLimit: RateLimitSettings | false; allowAmplification: boolean } {
  const perSecond = rateLimitText === undefined ? settingDefault<number>('server.rateLimitPerSecond') : Number(rateLimitText);
  if (!Number.isInteger(perSecond) || perSecond < 0) {
    throw new UsageError(`--rate-limit is "${rateLimitText}"; write a whole number of datagrams per second, or 0 for no limit.`);
  }
  const burst = Math.max(settingDefault<number>('server.rateLimitBurst'), perSecond);
  return {
    rateLimit: perSecond > 0 ? { perSecond, burst, exemptLoopback: true } : false,
    allowAmplification: allowAmplification ?? settingDefault<boolean>('server.allowAmplification'),
  };
}

/** `allowPortZero`: a socket to bind, where 0 asks for any free port. */
export function endpointArgument(what: string, text: string, allowPortZero = false): Endpoint {
  return readOption(what, () => parseEndpoint(text, { allowPortZero }));
}

/** Said once, on stderr, when a socket listens where other machines can reach it: the user asked for that address. */
export function exposureNote(
  local: Endpoint,
  protectedBy: { rateLimit: RateLimitSettings | false; allowAmplification: boolean },
): string | undefined {
  if (isLoopback(local.host)) return undefined;
  const limit = protectedBy.rateLimit ? `at most ${protectedBy.rateLimit.perSecond}/s per peer` : 'no rate limit';
  const guard = protectedBy.allowAmplification ? 'replies may be larger than requests' : 'replies no larger than requests';
  return `${formatEndpoint(local)} is reachable from other machines: ${limit}, ${guard}.`;
}

/**
 * Runs a server-like command until `stop`: logs its events, captures when asked, and on stop closes every socket,
 * writes the capture and returns with the log flushed.
 */
export async function serveUntilStopped(
  terminal: Terminal,
  stop: AbortSignal,
  options: { json: boolean; capture: string | undefined },
  start: (workbench: Workbench) => Promise<() => string>,
): Promise<void> {
  const workbench = new Workbench();
  const log = logEvents(workbench, terminal, options.json);
  let capture: RunningCapture | undefined;
  let text: string | undefined;
  try {
    if (options.capture !== undefined) capture = await startCapture(workbench, options.capture, terminal);
    const summary = await start(workbench);
    await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
    text = summary();
  } finally {
    await workbench.dispose();
    log.dispose();
    if (text !== undefined) terminal.out.write(options.json ? `${JSON.stringify({ kind: 'summary', text })}\n` : `${text}\n`);
    if (capture) terminal.err.write(`${await capture.close()}\n`);
  }
}
