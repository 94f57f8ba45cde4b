import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { FromServer, ServerConfig, ServerSample, ToServer } from './serverProtocol';

export type { ServerKind, ServerSample } from './serverProtocol';

const IPC_TIMEOUT_MS = 10_000;

/**
 * A server under test in its own forked process. Fairest on 2 cores: the load generator has the parent's event
 * loop and one core, each server has an event loop, a heap and a garbage collector of its own (as the extension
 * host has, apart from the programs that send to it), and the same Node binary and flags run both servers, so the
 * only difference measured is the code that answers. The process idles between phases and is sampled only
 * before and after one (once mid-run in the memory run), never while it is being timed.
 */
export class ServerUnderTest {
  private readonly waiting = new Map<number, (sample: ServerSample) => void>();
  private lastId = 0;
  private exited: Error | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly config: ServerConfig,
    readonly port: number,
  ) {
    child.on('message', (message: FromServer) => {
      if (message.type !== 'sample') return;
      this.waiting.get(message.id)?.(message.sample);
      this.waiting.delete(message.id);
    });
    child.on('exit', (code) => (this.exited = new Error(`the ${config.kind} server process exited (${code})`)));
  }

  static start(config: ServerConfig): Promise<ServerUnderTest> {
    const child = fork(path.join(__dirname, 'serverProcess.js'), [JSON.stringify(config)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return withTimeout(
      new Promise<ServerUnderTest>((resolve, reject) => {
        child.once('message', (message: FromServer) => {
          if (message.type === 'ready') resolve(new ServerUnderTest(child, config, message.port));
          else reject(new Error(message.type === 'failed' ? message.message : `unexpected ${message.type}`));
        });
        child.once('exit', (code) => reject(new Error(`the ${config.kind} server process exited (${code}) before it was ready`)));
      }),
      `starting the ${config.kind} server`,
      () => child.kill(),
    );
  }

  get kind(): ServerConfig['kind'] {
    return this.config.kind;
  }

  /**
   * CPU, memory, event-loop stalls and (ours) counters and log sink figures; `gc` collects garbage first, for a
   * memory figure; `resetStalls` measures stalls afresh from this sample on.
   */
  sample(gc = false, resetStalls = false): Promise<ServerSample> {
    if (this.exited) return Promise.reject(this.exited);
    const id = ++this.lastId;
    const message: ToServer = { type: 'sample', id, gc, resetStalls };
    this.child.send(message);
    return withTimeout(new Promise((resolve) => this.waiting.set(id, resolve)), `sampling the ${this.kind} server`, () =>
      this.waiting.delete(id),
    );
  }

  stop(): Promise<void> {
    if (this.exited || this.child.exitCode !== null) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve) => {
        this.child.once('exit', () => resolve());
        const message: ToServer = { type: 'stop' };
        this.child.send(message);
      }),
      `stopping the ${this.kind} server`,
      () => this.child.kill('SIGKILL'),
    ).catch(() => undefined);
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} took more than ${IPC_TIMEOUT_MS / 1000} s`));
    }, IPC_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
