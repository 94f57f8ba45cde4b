import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = path.resolve(__dirname, '..', '..', '..');

/** A process as /proc shows it; `started` tells it from a later process given the same id. */
interface ProcessInfo {
  readonly pid: number;
  readonly ppid: number;
  readonly state: string;
  readonly started: string;
  readonly command: string;
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    const fields = stat.slice(close + 2).split(' ');
    const command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
    return { pid, ppid: Number(fields[1]), state: fields[0], started: fields[19], command };
  } catch {
    return undefined;
  }
}

/** `root` and every process below it, code-server's own process group included (it is still a child). */
function processTree(root: number): ProcessInfo[] {
  const all = fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => processInfo(Number(name)))
    .filter((info) => info !== undefined);
  const tree = all.filter((info) => info.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...all.filter((info) => info.ppid === tree[i].pid));
  return tree;
}

/** Still running: the same process (not a new one with its id), and not a zombie nobody has reaped yet. */
function stillRunning(info: ProcessInfo): boolean {
  const now = processInfo(info.pid);
  return now !== undefined && now.started === info.started && now.state !== 'Z';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Fails, saying how to fix it, when the offline test host (test/host/setup.mjs) is not installed where the tests look. */
function assertHostInstalled(): void {
  const check = spawnSync(process.execPath, ['--input-type=module', '-e', "(await import('./test/host/lib.mjs')).assertHostInstalled()"], {
    cwd: REPO,
    encoding: 'utf8',
  });
  assert.equal(
    check.status,
    0,
    `npm start needs the offline test host (UDPW_HOST_CACHE=${process.env.UDPW_HOST_CACHE ?? '(unset)'}):\n${check.stderr}`,
  );
}

async function waitForServer(port: number, npm: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (npm.exitCode !== null || npm.signalCode !== null) {
      assert.fail(`npm start ended (${npm.exitCode ?? npm.signalCode}) before serving:\n${output()}`);
    }
    const answered = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (response) => response.status > 0,
      () => false,
    );
    if (answered) return;
    await sleep(500);
  }
  assert.fail(`npm start did not serve on port ${port} within 120 s:\n${output()}`);
}

describe('npm start', () => {
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
    it(`stops the start script, esbuild's watcher and the VS Code server when npm alone gets ${signal}`, async function () {
      this.timeout(180_000);
      assertHostInstalled();
      const port = await freePort();
      // --web: code-server even where a desktop `code` is on PATH.
      const npm = spawn('npm', ['start', '--', '--web'], {
        cwd: REPO,
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      const keep = (data: Buffer): void => void (output = (output + data.toString()).slice(-20_000));
      npm.stdout.on('data', keep);
      npm.stderr.on('data', keep);
      const exited = new Promise((resolve) => npm.on('exit', resolve));
      let tree: ProcessInfo[] = [];
      try {
        await waitForServer(port, npm, () => output);
        tree = processTree(npm.pid!);
        const commands = tree.map((info) => info.command).join('\n');
        assert.match(commands, /test\/host\/start\.mjs/);
        assert.match(commands, /esbuild\.mjs --watch/);
        assert.match(commands, /code-server.*--bind-addr 127\.0\.0\.1:/);

        npm.kill(signal);
        await exited;
        const deadline = Date.now() + 20_000;
        while (tree.some(stillRunning) && Date.now() < deadline) await sleep(200);
        const left = tree.filter(stillRunning);
        assert.deepEqual(
          left.map((info) => `${info.pid} ${info.command}`),
          [],
          `still running after npm got ${signal}`,
        );
      } finally {
        // Whatever the outcome, leave nothing behind.
        npm.kill('SIGKILL');
        for (const info of [...tree, ...(npm.pid ? processTree(npm.pid) : [])].filter(stillRunning)) {
          try {
            process.kill(info.pid, 'SIGKILL');
          } catch {
            // gone meanwhile
          }
        }
      }
    });
  }
});
