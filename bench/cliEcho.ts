// Issue #23's figure: `udpw echo` (the command line's echo server, its log on stdout written to a file) against the
// plainest Node echo, each a process of its own saturated by the C load generator, in alternating rounds; CPU time
// per answered datagram from the kernel's count for each server process (/proc/PID/stat: user + system).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { CLoadGenerator } from './cLoadGenerator';
import { median } from './report';

export interface CliEchoOptions {
  readonly size: number;
  readonly window: number;
  readonly count: number;
  readonly rounds: number;
}

export interface CliEchoResult {
  /** Median µs of CPU per answered datagram. */
  readonly udpwMicros: number;
  readonly baselineMicros: number;
  /** udpw / baseline. */
  readonly ratio: number;
  /** The generator's CPU, median % of one core: well below 100 means the servers, not it, were the limit. */
  readonly generatorCpuPercent: number;
}

const PLAIN_ECHO = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => process.stderr.write('listening on 127.0.0.1:' + s.address().port + '\\n'));`;
const TICKS_PER_SECOND = 100;

interface Contender {
  readonly child: ChildProcess;
  readonly port: number;
}

export async function cliEchoBench(
  generate: CLoadGenerator,
  repoRoot: string,
  options: CliEchoOptions,
  log: (line: string) => void,
): Promise<CliEchoResult> {
  const logFile = path.join(tmpdir(), `udpw-bench-echo-${process.pid}.log`);
  const out = openSync(logFile, 'w');
  const udpw = await start([path.join(repoRoot, 'dist', 'cli.js'), 'echo', '127.0.0.1:0'], out);
  const baseline = await start(['-e', PLAIN_ECHO], 'ignore');
  const perDatagram: Record<'udpw' | 'baseline', number[]> = { udpw: [], baseline: [] };
  const generatorCpu: number[] = [];
  try {
    // Warm-up: the JIT settles before anything is counted.
    for (const contender of [udpw, baseline]) {
      await generate({ port: contender.port, size: options.size, window: options.window, count: options.count, deadlineMs: 30_000 });
    }
    for (let round = 0; round < options.rounds; round++) {
      const order: Array<['udpw' | 'baseline', Contender]> =
        round % 2 === 0
          ? [
              ['udpw', udpw],
              ['baseline', baseline],
            ]
          : [
              ['baseline', baseline],
              ['udpw', udpw],
            ];
      for (const [name, contender] of order) {
        const before = cpuMicros(contender.child);
        const load = await generate({
          port: contender.port,
          size: options.size,
          window: options.window,
          count: options.count,
          deadlineMs: 30_000,
        });
        perDatagram[name].push((cpuMicros(contender.child) - before) / Math.max(load.answered, 1));
        generatorCpu.push(load.cpuPercent);
      }
    }
  } finally {
    for (const contender of [udpw, baseline]) contender.child.kill('SIGINT');
    closeSync(out);
    log(`udpw echo wrote ${readFileSync(logFile).length} bytes of log`);
    rmSync(logFile, { force: true });
  }
  const udpwMicros = median(perDatagram.udpw);
  const baselineMicros = median(perDatagram.baseline);
  return { udpwMicros, baselineMicros, ratio: udpwMicros / baselineMicros, generatorCpuPercent: median(generatorCpu) };
}

async function start(args: readonly string[], stdout: number | 'ignore'): Promise<Contender> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', stdout, 'pipe'] });
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start within 10 s: ${stderr}`)), 10_000);
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
  return { child, port };
}

/** User + system CPU of a process, µs, in clock ticks (100 per second on Linux). */
function cpuMicros(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000_000) / TICKS_PER_SECOND;
}

/** 64 B datagrams, 64 in flight, 9 alternating rounds of 50,000 each. */
export const CLI_ECHO: CliEchoOptions = { size: 64, window: 64, count: 50_000, rounds: 9 };
/** Issue #23: `udpw echo` costs at most 1/0.95 of the plain echo's CPU per datagram. */
const CLI_ECHO_TARGET = 1 / 0.95;

export function reportCliEcho(
  result: CliEchoResult,
  check: (name: string, value: string, target: string, pass: boolean) => void,
  log: (line: string) => void,
): CliEchoResult {
  log(
    `CPU per datagram: udpw echo ${result.udpwMicros.toFixed(2)} µs, plain Node echo ${result.baselineMicros.toFixed(2)} µs (generator at ${result.generatorCpuPercent.toFixed(0)} % of a core)`,
  );
  check(
    'udpw echo CPU per datagram vs plain Node echo',
    `${result.ratio.toFixed(2)}×`,
    `≤ ${CLI_ECHO_TARGET.toFixed(2)}×`,
    result.ratio <= CLI_ECHO_TARGET,
  );
  return result;
}
