/** Where a command prints: its report and log on `out`, progress, round trips and errors on `err`. */
export interface Terminal {
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream;
  /** Colour codes only where a person reads: `out` is a terminal and NO_COLOR is not set. */
  readonly colour: boolean;
  /** Progress lines redraw in place only on a terminal. */
  readonly errIsTerminal: boolean;
}

export function processTerminal(): Terminal {
  return {
    out: process.stdout,
    err: process.stderr,
    colour: process.stdout.isTTY === true && !('NO_COLOR' in process.env),
    errIsTerminal: process.stderr.isTTY === true,
  };
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2 } as const;

export function paint(terminal: Terminal, colour: keyof typeof CODES, text: string): string {
  return terminal.colour ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text;
}

/** Exit codes: 0 every check passed, 1 one failed or timed out, 2 the command line or a file was wrong. */
export const EXIT = { passed: 0, failed: 1, usage: 2 } as const;
