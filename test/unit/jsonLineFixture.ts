// A fixture in a process of its own (inside a network namespace, for the cross-host suites), driven one JSON line
// at a time: each command written to its stdin is answered by one JSON line on its stdout.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const ANSWER_TIMEOUT_MS = 10_000;
const EXIT_TIMEOUT_MS = 5000;

export class JsonLineFixture<Command extends { do: string }, Answer = unknown> {
  private readonly lines: AsyncIterator<string>;

  constructor(
    protected readonly child: ChildProcess,
    /** Who answers, as an error names it ("the workbench in the namespace"). */
    private readonly name: string,
  ) {
    this.lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  }

  async read<T>(): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not answer within ${ANSWER_TIMEOUT_MS} ms`)), ANSWER_TIMEOUT_MS);
    });
    try {
      const line = await Promise.race([this.lines.next(), late]);
      if (line.done) throw new Error(`${this.name}'s fixture exited`);
      return JSON.parse(line.value) as T;
    } finally {
      clearTimeout(timer);
    }
  }

  ask<T = Answer>(command: Command): Promise<T> {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
    return this.read<T>();
  }

  /** Asks the fixture to stop; kills it if it has not exited within a few seconds. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    const killer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    try {
      await this.ask({ do: 'stop' } as Command).catch(() => this.child.kill('SIGKILL'));
      this.child.stdin!.end();
      await exited;
    } finally {
      clearTimeout(killer);
    }
  }
}
