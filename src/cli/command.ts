import type { Terminal } from './terminal';

/** A subcommand: `udpw NAME …`. */
export interface Command {
  readonly name: string;
  /** One line for `udpw --help`. */
  readonly summary: string;
  /** `udpw NAME --help`: usage, options and examples. */
  readonly help: string;
  /** Resolves with the exit code; `stop` aborts on Ctrl-C or SIGTERM, and the command then stops cleanly and sums up. */
  run(args: readonly string[], terminal: Terminal, stop: AbortSignal): Promise<number>;
}
