import { formatEndpoint } from '../core/endpoint';
import { NO_SIMULATION } from '../core/impairment/impairment';
import { parseSimulationSpec, SIMULATION_SPEC_EXAMPLE } from '../core/impairment/simulationSpec';
import { formatCount } from '../core/stats';
import type { Command } from './command';
import { settingDefault } from './defaults';
import { endpointArgument, exposureNote, protection, serveUntilStopped, SERVING_HELP, SERVING_OPTIONS } from './serving';
import { EXIT, type Terminal } from './terminal';
import { choiceOption, parseCommandLine, readOption, UsageError } from './usage';
import type { ReplyMode, SimulationSettings } from '../core/configuration';

const OPTIONS = {
  ...SERVING_OPTIONS,
  reply: { type: 'string' },
  template: { type: 'string' },
  simulate: { type: 'string' },
} as const;

const REPLY_MODES: readonly ReplyMode[] = ['mirror', 'template', 'none'];

export const echoCommand: Command = {
  name: 'echo',
  summary: 'a headless echo server, with simulated loss, delay and duplication',
  help: `Usage: udpw echo [HOST:PORT] [options]

Runs the editor's echo server until Ctrl-C or SIGTERM, logs what it sees on stdout and sums up on exit.
HOST:PORT defaults to 127.0.0.1:12345; port 0 picks a free one. Another address than loopback is reachable
from other machines: the rate limit and the amplification guard then apply, as in the editor.

Options:
  --reply mirror|template|none  mirror: the same bytes back (default); template: --template filled in; none: listen only
  --template TEXT               the reply, with \${text}, \${hex}, \${size}, \${peer}, \${seq} (default "Data received: \${text}")
  --simulate SPEC               simulated impairment, e.g. "${SIMULATION_SPEC_EXAMPLE}"
${SERVING_HELP}

Examples:
  udpw echo
  udpw echo 127.0.0.1:9000 --reply template --simulate "loss=10% seed=1"
  udpw echo 0.0.0.0:5000 --json > events.jsonl`,
  run: echo,
};

async function echo(args: readonly string[], terminal: Terminal, stop: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help) {
    terminal.out.write(`${echoCommand.help}\n`);
    return EXIT.passed;
  }
  if (positionals.length > 1) throw new UsageError(`udpw echo takes one HOST:PORT, not ${positionals.length}: ${positionals.join(' ')}.`);
  const address = positionals[0] ?? `${settingDefault<string>('server.bindAddress')}:${settingDefault<number>('server.port')}`;
  const local = endpointArgument('HOST:PORT', address, true);
  const replyMode = choiceOption('reply', values.reply, REPLY_MODES) ?? settingDefault<ReplyMode>('server.replyMode');
  const simulation = simulationOf(values.simulate);
  const guard = protection(values['rate-limit'], values['allow-amplification']);
  await serveUntilStopped(terminal, stop, { json: values.json === true, capture: values.capture }, async (workbench) => {
    const server = await workbench.startServer({
      host: local.host,
      port: local.port,
      replyMode,
      template: values.template ?? settingDefault<string>('server.template'),
      simulation,
      ...guard,
    });
    const note = exposureNote({ ...local, port: server.local.port }, guard);
    terminal.err.write(`udpw echo: listening on ${formatEndpoint(server.local)} (Ctrl-C stops)\n${note ? `udpw echo: ${note}\n` : ''}`);
    return () => {
      const c = server.counters;
      const reasons = Object.entries(c.droppedBy)
        .filter(([, count]) => count > 0)
        .map(([reason, count]) => `${reason} ${formatCount(count)}`);
      return (
        `udpw echo: ${formatCount(c.received)} received, ${formatCount(c.answered)} answered (${formatCount(c.replies)} replies), ` +
        `${formatCount(c.dropped)} dropped, ${formatCount(c.rateLimited)} rate-limited, ${formatCount(c.listened)} listened only` +
        `${reasons.length > 0 ? ` [${reasons.join(', ')}]` : ''}`
      );
    };
  });
  return EXIT.passed;
}

function simulationOf(spec: string | undefined): SimulationSettings {
  return spec === undefined ? NO_SIMULATION : readOption('--simulate', () => parseSimulationSpec(spec, NO_SIMULATION));
}
