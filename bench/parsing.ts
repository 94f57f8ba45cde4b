import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { judgeReply, parseExpectation } from '../src/core/requests/expectation';
import type { ParseFigures, ParseMessage } from './parseProcess';
import { EXTREME_SHAPES, generateRequestFile, type ExtremeShape } from './requestFileText';

const PARSE_DEADLINE_MS = 120_000;

/** Parses a generated file of about `bytes` (realistic, or of one extreme shape) in a fresh process (see parseProcess.ts). */
export async function measureParse(bytes: number, shape?: ExtremeShape): Promise<ParseFigures> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udp-bench-parse-'));
  try {
    const file = path.join(dir, 'generated.udp');
    fs.writeFileSync(file, shape ? EXTREME_SHAPES[shape](bytes) : generateRequestFile(bytes));
    return await new Promise<ParseFigures>((resolve, reject) => {
      const child = fork(path.join(__dirname, 'parseProcess.js'), [file], {
        execArgv: ['--expose-gc'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`parsing took more than ${PARSE_DEADLINE_MS / 1000} s`));
      }, PARSE_DEADLINE_MS);
      child.once('message', (message: ParseMessage) => {
        clearTimeout(timer);
        child.disconnect();
        if ('figures' in message) resolve(message.figures);
        else reject(new Error(message.error));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the parse process exited (${code}) without figures`));
      });
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface PatternTiming {
  readonly expectation: string;
  readonly replyBytes: number;
  readonly passed: boolean;
  /** The slowest of a few checks of the reply, wall clock and CPU time. */
  readonly ms: number;
  readonly cpuMs: number;
}

const PATTERN_ROUNDS = 5;

/**
 * `@expect matches` with patterns that make a backtracking engine take exponential time, and the costliest kinds of
 * pattern RE2 still accepts, each against a 27-byte reply and the largest datagram.
 */
export function timeHostilePatterns(): PatternTiming[] {
  const timings: PatternTiming[] = [];
  const patterns = [
    'matches /^(a+)+$/',
    'matches /(x+x+)+y/',
    'matches /(a|aa){80}$/',
    'matches /(?:a?){150}a{150}/',
    'matches /(.*a){20}/',
  ];
  for (const expectation of patterns) {
    const parsed = parseExpectation(expectation);
    if (!('expectation' in parsed)) throw new Error(`${expectation}: ${parsed.message}`);
    for (const reply of [Buffer.from(`${'a'.repeat(27)}!`), Buffer.from(`${'a'.repeat(65_506)}!`)]) {
      const times: number[] = [];
      const cpuTimes: number[] = [];
      let passed = false;
      for (let round = 0; round < PATTERN_ROUNDS; round++) {
        const started = performance.now();
        const cpuBefore = process.cpuUsage();
        passed = judgeReply(parsed.expectation, reply).passed;
        const used = process.cpuUsage(cpuBefore);
        times.push(performance.now() - started);
        cpuTimes.push((used.user + used.system) / 1000);
      }
      timings.push({ expectation, replyBytes: reply.length, passed, ms: Math.max(...times), cpuMs: Math.max(...cpuTimes) });
    }
  }
  return timings;
}

/** The same nested quantifier in V8's backtracking RegExp, on replies short enough to finish: time doubles per byte. */
export function timeBacktracking(lengths: readonly number[]): { readonly replyBytes: number; readonly ms: number }[] {
  return lengths.map((length) => {
    const reply = `${'a'.repeat(length)}!`;
    const started = performance.now();
    /^(a+)+$/.test(reply);
    return { replyBytes: reply.length, ms: performance.now() - started };
  });
}
