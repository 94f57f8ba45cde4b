import { fork, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import type { ActivationMessage } from './activationProcess';

export interface Bundle {
  readonly file: string;
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Removes the temporary folder. */
  dispose(): void;
}

/**
 * Runs the project's own `esbuild.mjs --production`, unchanged, in a temporary folder whose `src` links to the
 * real one: the minified bundle the package would ship, without touching anyone's `dist/`.
 */
export function buildProductionBundle(repoRoot: string): Bundle {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-bench-bundle-'));
  const dispose = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    fs.symlinkSync(path.join(repoRoot, 'src'), path.join(dir, 'src'), 'dir');
    const build = spawnSync(process.execPath, [path.join(repoRoot, 'esbuild.mjs'), '--production'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const file = path.join(dir, 'dist', 'extension.js');
    if (build.status !== 0 || !fs.existsSync(file)) {
      throw new Error(
        `esbuild.mjs --production failed (${build.status ?? build.signal}): ${(build.stderr || build.stdout).trim().slice(0, 2000)}`,
      );
    }
    const code = fs.readFileSync(file);
    return { file, bytes: code.length, gzipBytes: zlib.gzipSync(code, { level: 9 }).length, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/** Milliseconds of one cold measurement in a fresh process (see activationProcess.ts). */
export function timeActivation(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'activationProcess.js'), [...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the activation measurement took more than 30 s'));
    }, 30_000);
    child.once('message', (message: ActivationMessage) => {
      clearTimeout(timer);
      child.disconnect();
      if ('ms' in message) resolve(message.ms);
      else reject(new Error(message.error));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the activation process exited (${code}) without a figure`));
    });
  });
}
