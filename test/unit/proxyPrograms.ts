// The user's own programs on both ends of the proxy: a Python UDP echo server and Python UDP clients, as child
// processes, so the proxy is tested between sockets it does not own.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'unit', 'fixtures');
const START_TIMEOUT_MS = 10_000;

/** A running udpEcho.py; it exits when stopped (its stdin closes). */
export class PythonEchoServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {}

  /** `mirror`: replies are the request's bytes alone, no larger than the request; else they say whom the server saw. */
  static async start(
    host = '127.0.0.1',
    spawnIt: (args: string[]) => ChildProcess = (args) => spawn('python3', args, { stdio: ['pipe', 'pipe', 'inherit'] }),
    { mirror = false } = {},
  ): Promise<PythonEchoServer> {
    const child = spawnIt([path.join(FIXTURES, 'udpEcho.py'), host, ...(mirror ? ['mirror'] : [])]);
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`udpEcho.py did not print its port within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      createInterface({ input: child.stdout! }).once('line', (first) => {
        clearTimeout(timer);
        resolve(first);
      });
      child.once('exit', (code) => reject(new Error(`udpEcho.py exited with ${code} before printing its port`)));
    });
    return new PythonEchoServer(child, Number(line));
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.stdin!.end();
    });
  }
}

export interface ClientRun {
  /** Each client socket's own address, "addr:port". */
  readonly locals: string[];
  /** [client index, payload as latin-1] in arrival order. */
  readonly replies: Array<[number, string]>;
}

export interface ClientPlan {
  readonly clients: number;
  readonly count: number;
  /** Time between rounds (one datagram from each client per round). */
  readonly gapMs: number;
  /** Replies are collected until none came for this long. */
  readonly quietMs: number;
  /** The address every client socket sends from; the system's choice when absent. */
  readonly bind?: string;
}

/** Runs udpClients.py to completion: `command` and its leading args run it elsewhere, e.g. in a namespace. */
export function runPythonClients(host: string, port: number, plan: ClientPlan, prefix: readonly string[] = []): Promise<ClientRun> {
  const args = [
    path.join(FIXTURES, 'udpClients.py'),
    host,
    String(port),
    String(plan.clients),
    String(plan.count),
    String(plan.gapMs),
    String(plan.quietMs),
    ...(plan.bind === undefined ? [] : [plan.bind]),
  ];
  const [command, ...rest] = [...prefix, 'python3', ...args];
  return new Promise((resolve, reject) => {
    execFile(command, rest, { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(JSON.parse(stdout) as ClientRun);
    });
  });
}
