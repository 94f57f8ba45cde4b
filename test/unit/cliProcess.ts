// The `udpw` command line as users run it: the built bundle (dist/cli.js) in a process of its own, spoken to over real
// sockets and read from its stdout, stderr and exit code.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli.js');
/** No command of these tests should take longer; a hung one fails its test instead of the whole run. */
const RUN_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 10_000;

/** Builds the bundles from the current sources, so the tests run what would ship. */
export function buildCli(): void {
  execFileSync(process.execPath, [path.join(REPO, 'esbuild.mjs')], { cwd: REPO });
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `udpw`; `prefix` runs it elsewhere (`ip netns exec NAME`). */
export class UdpwProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<Finished>;

  constructor(args: readonly string[], options: { prefix?: readonly string[]; cwd?: string; input?: string } = {}) {
    const [command, ...rest] = [...(options.prefix ?? []), process.execPath, CLI, ...args];
    this.child = spawn(command, rest, {
      cwd: options.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.child.stdin!.end(options.input);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  finished(): Promise<Finished> {
    return this.exited;
  }

  /** Resolves with the first match of `pattern` in stderr (a server prints where it listens there). */
  async waitForStderr(pattern: RegExp): Promise<RegExpMatchArray> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const match = pattern.exec(this.stderr);
      if (match) return match;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`udpw never printed ${pattern}; stderr: ${this.stderr}; stdout: ${this.stdout}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Ctrl-C, then what it printed on the way out. */
  interrupt(signal: NodeJS.Signals = 'SIGINT'): Promise<Finished> {
    this.child.kill(signal);
    return this.exited;
  }
}

export function udpw(args: readonly string[], options?: ConstructorParameters<typeof UdpwProcess>[1]): Promise<Finished> {
  return new UdpwProcess(args, options).finished();
}

/** `udpw echo` (or `proxy`) started, with the port it listens on. */
export async function startListening(
  args: readonly string[],
  options?: ConstructorParameters<typeof UdpwProcess>[1],
): Promise<{ process: UdpwProcess; port: number }> {
  const process = new UdpwProcess(args, options);
  const [, port] = await process.waitForStderr(/listening on \S+?:(\d+)/);
  return { process, port: Number(port) };
}
