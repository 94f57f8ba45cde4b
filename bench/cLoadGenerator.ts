import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What one run of the C generator reports. */
export interface CLoadResult {
  readonly sent: number;
  readonly answered: number;
  /** Sent and never answered: given up on after 200 ms without a reply, or still in flight at the end. */
  readonly lost: number;
  readonly durationMs: number;
  /** CPU time of the generator over the run, as a percentage of one core. */
  readonly cpuPercent: number;
}

export interface CLoadOptions {
  readonly port: number;
  readonly size: number;
  readonly window: number;
  readonly count: number;
  readonly deadlineMs: number;
}

/** Runs the generator built by `buildCLoadGenerator`: one process per run, ended by its own count and deadline. */
export type CLoadGenerator = (options: CLoadOptions) => Promise<CLoadResult>;

/**
 * Builds bench/cLoadGenerator.c with the system's C compiler into `outDir` and returns a way to run it, or the reason
 * it cannot (no compiler, a failed build), so the bench can say so and measure with the Node generator instead.
 */
export function buildCLoadGenerator(repoRoot: string, outDir: string): CLoadGenerator | { readonly unavailable: string } {
  const source = path.join(repoRoot, 'bench', 'cLoadGenerator.c');
  const binary = path.join(outDir, 'cLoadGenerator');
  const compiler = process.env.CC ?? 'cc';
  fs.mkdirSync(outDir, { recursive: true });
  const build = spawnSync(compiler, ['-O2', '-Wall', '-o', binary, source], { encoding: 'utf8', timeout: 60_000 });
  if (build.error) return { unavailable: `no C compiler (${compiler}: ${build.error.message}); set CC or install one` };
  if (build.status !== 0) return { unavailable: `${compiler} could not build ${path.basename(source)}: ${build.stderr.trim()}` };
  return (options) => run(binary, options);
}

function run(binary: string, { port, size, window, count, deadlineMs }: CLoadOptions): Promise<CLoadResult> {
  const args = [port, size, window, count, deadlineMs].map(String);
  return new Promise((resolve, reject) => {
    // The generator stops itself at its deadline; the timeout is for one that hangs.
    execFile(binary, args, { timeout: deadlineMs + 10_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`cLoadGenerator ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      const report = JSON.parse(stdout) as Omit<CLoadResult, 'cpuPercent'> & { cpuMs: number };
      resolve({
        sent: report.sent,
        answered: report.answered,
        lost: report.lost,
        durationMs: report.durationMs,
        cpuPercent: (report.cpuMs / report.durationMs) * 100,
      });
    });
  });
}
