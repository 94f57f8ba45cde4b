import { messageOf } from '../core/errors';
import type { Command } from './command';
import { echoCommand } from './echoCommand';
import { proxyCommand } from './proxyCommand';
import { runCommand } from './runCommand';
import { sendCommand } from './sendCommand';
import { EXIT, processTerminal, type Terminal } from './terminal';
import { UsageError } from './usage';

/** `udpw`: the editor's core on a command line. Every decision is the core's; this only reads arguments and prints. */
const COMMANDS: readonly Command[] = [runCommand, echoCommand, sendCommand, proxyCommand];

const HELP = `Usage: udpw COMMAND [options]   (udpw COMMAND --help for each)

${COMMANDS.map(({ name, summary }) => `  ${name.padEnd(6)} ${summary}`).join('\n')}

Examples:
  udpw run checks.udp --reporter junit --out udpw-report.xml
  udpw echo 127.0.0.1:12345 --reply template
  udpw proxy --upstream 127.0.0.1:9000 --listen 127.0.0.1:9001 --to-server bad-game
  udpw send 127.0.0.1:12345 hello`;

async function main(args: readonly string[], terminal: Terminal): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    terminal.out.write(`${HELP}\n`);
    return name === undefined ? EXIT.usage : EXIT.passed;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    terminal.err.write(`udpw: unknown command "${name}": use ${COMMANDS.map((c) => c.name).join(', ')} (udpw --help).\n`);
    return EXIT.usage;
  }
  const stop = stopOnSignals(terminal);
  try {
    return await command.run(rest, terminal, stop);
  } catch (error) {
    if (error instanceof UsageError) {
      terminal.err.write(`udpw ${name}: ${error.message}\nSee: udpw ${name} --help\n`);
      return EXIT.usage;
    }
    terminal.err.write(`udpw ${name}: ${messageOf(error)}\n`);
    return EXIT.failed;
  }
}

/** Ctrl-C or SIGTERM asks the command to stop cleanly (sockets closed, capture written, summary printed); a second one ends the process at once. */
function stopOnSignals(terminal: Terminal): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    terminal.err.write(`\nudpw: ${signal}: stopping\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return controller.signal;
}

void main(process.argv.slice(2), processTerminal()).then((code) => {
  process.exitCode = code;
});
