import { formatEndpoint } from '../core/endpoint';
import { NO_LINK_IMPAIRMENT } from '../core/impairment/impairment';
import { PROXY_LIMITS } from '../core/limits';
import { describeLink, LINK_PRESETS, LINK_SPEC_EXAMPLE, parseLinkSpec } from '../core/impairment/simulationSpec';
import { formatCount } from '../core/stats';
import type { DirectionCounters } from '../core/impairment/impairmentProxy';
import type { Command } from './command';
import { settingDefault } from './defaults';
import { endpointArgument, exposureNote, protection, serveUntilStopped, SERVING_HELP, SERVING_OPTIONS } from './serving';
import { EXIT, type Terminal } from './terminal';
import { integerOption, parseCommandLine, readOption, UsageError } from './usage';
import type { LinkSettings } from '../core/configuration';

const OPTIONS = {
  ...SERVING_OPTIONS,
  listen: { type: 'string' },
  upstream: { type: 'string' },
  'to-server': { type: 'string' },
  'to-client': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'max-sessions': { type: 'string' },
} as const;

export const proxyCommand: Command = {
  name: 'proxy',
  summary: 'put any UDP program behind a bad network: the impairment proxy, with its presets',
  help: `Usage: udpw proxy --upstream HOST:PORT [--listen HOST:PORT] [--to-server SPEC] [--to-client SPEC] [options]

Clients send to --listen; each client gets its own socket towards --upstream (the real server), and each
direction goes through its own simulated link until Ctrl-C or SIGTERM. Logs on stdout, sums up on exit.

Options:
  --listen HOST:PORT     where clients send (default 127.0.0.1:0, a free port; printed on stderr)
  --upstream HOST:PORT   the real server (required)
  --to-server SPEC       the link towards the server: a preset and/or settings, e.g. "bad-game", "4g loss=3%",
                         "${LINK_SPEC_EXAMPLE}"
  --to-client SPEC       the link back to the clients, the same way
  --idle-timeout S       a client silent this many seconds loses its session (default 60)
  --max-sessions N       clients served at once (default 1024)
${SERVING_HELP}

Presets: ${Object.entries(LINK_PRESETS)
    .map(([name, { label }]) => `${name} (${label})`)
    .join(', ')}.

Examples:
  udpw proxy --upstream 127.0.0.1:9000 --listen 127.0.0.1:9001 --to-server bad-game
  udpw proxy --upstream 127.0.0.1:9000 --listen 127.0.0.1:9001 --to-server "loss=30% seed=7" --to-client 4g`,
  run: proxy,
};

async function proxy(args: readonly string[], terminal: Terminal, stop: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help) {
    terminal.out.write(`${proxyCommand.help}\n`);
    return EXIT.passed;
  }
  if (positionals.length > 0) {
    throw new UsageError(`udpw proxy takes options only, not ${positionals.join(' ')}: name addresses with --listen and --upstream.`);
  }
  if (values.upstream === undefined) throw new UsageError('Name the real server: udpw proxy --upstream HOST:PORT.');
  const upstream = endpointArgument('--upstream', values.upstream);
  const listen = endpointArgument('--listen', values.listen ?? settingDefault<string>('proxy.listenAddress'), true);
  const toServer = linkOf('--to-server', values['to-server']);
  const toClient = linkOf('--to-client', values['to-client']);
  const idleSeconds = integerOption('idle-timeout', values['idle-timeout'], 1, PROXY_LIMITS.maxIdleTimeoutMs / 1000);
  const maxSessions = integerOption('max-sessions', values['max-sessions'], 1, PROXY_LIMITS.maxSessions);
  const guard = protection(values['rate-limit'], values['allow-amplification']);
  await serveUntilStopped(terminal, stop, { json: values.json === true, capture: values.capture }, async (workbench) => {
    const running = await workbench.startProxy({
      host: listen.host,
      port: listen.port,
      upstreamHost: upstream.host,
      upstreamPort: upstream.port,
      links: { toServer, toClient },
      idleTimeoutMs: (idleSeconds ?? settingDefault<number>('proxy.idleTimeoutSeconds')) * 1000,
      maxSessions: maxSessions ?? settingDefault<number>('proxy.maxSessions'),
      ...guard,
    });
    const note = exposureNote({ ...listen, port: running.local.port }, guard);
    terminal.err.write(
      `udpw proxy: listening on ${formatEndpoint(running.local)} for ${formatEndpoint(upstream)}; to server: ${describeLink(toServer)}; to client: ${describeLink(toClient)} (Ctrl-C stops)\n` +
        (note ? `udpw proxy: ${note}\n` : ''),
    );
    return () => {
      const { toServer: up, toClient: down, sessionsOpened } = running.counters;
      return `udpw proxy: ${formatCount(sessionsOpened)} sessions; to server ${direction(up)}; to client ${direction(down)}`;
    };
  });
  return EXIT.passed;
}

function linkOf(option: string, spec: string | undefined): LinkSettings {
  return spec === undefined ? NO_LINK_IMPAIRMENT : readOption(option, () => parseLinkSpec(spec, NO_LINK_IMPAIRMENT));
}

function direction(c: DirectionCounters): string {
  return `${formatCount(c.received)} received, ${formatCount(c.forwarded)} forwarded, ${formatCount(c.dropped)} dropped`;
}
