import { readFile, writeFile } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { parseEndpoint } from '../core/endpoint';
import { messageOf } from '../core/errors';
import { escapeText } from '../core/escapeText';
import { parseRequestFile, type RequestFile } from '../core/requests/requestFile';
import { runRequestFile } from '../core/requests/requestFileRun';
import { describeBlockResult, describeRun, type SendDefaults } from '../core/requests/requestRun';
import { SEND_LIMITS } from '../core/limits';
import { Workbench } from '../core/workbench/workbench';
import { startCapture, type RunningCapture } from './capture';
import type { Command } from './command';
import { sendDefaults } from './defaults';
import { burstProgress } from './progress';
import { REPORTERS, renderReport, type FileReport } from './reports';
import { EXIT, paint, type Terminal } from './terminal';
import { choiceOption, integerOption, parseCommandLine, readOption, UsageError } from './usage';

const OPTIONS = {
  reporter: { type: 'string' },
  out: { type: 'string' },
  var: { type: 'string', multiple: true },
  bail: { type: 'boolean' },
  timeout: { type: 'string' },
  target: { type: 'string' },
  capture: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const runCommand: Command = {
  name: 'run',
  summary: 'run .udp request files block by block, as Run All does, and report',
  help: `Usage: udpw run [options] FILE|GLOB…

Runs each .udp file block by block, exactly as the editor's Run All does: the same parser, variables, @expect,
bursts, multicast and broadcast rules and results.

Options:
  --reporter pretty|junit|json|tap  how to report (default pretty); junit, json and tap go to --out or stdout
  --out PATH                        write the report there (pretty still prints as the blocks run)
  --var NAME=VALUE                  set a file variable ({{NAME}}), over the file's own @NAME = …; repeatable
  --bail                            stop at the first block that does not pass
  --timeout MS                      how long a block without @timeout waits for its reply (default 1000)
  --target HOST:PORT                where a block without @target sends (default 127.0.0.1:12345)
  --capture FILE.pcapng             write every datagram to a capture Wireshark opens
  -h, --help                        show this help

Exit code: 0 every block passed; 1 a block failed, timed out, lost datagrams or was stopped;
2 a usage mistake or a file that cannot be read or has errors (printed as file:line:column: message).

Examples:
  udpw run checks.udp
  udpw run 'test/**/*.udp' --reporter junit --out udpw-report.xml
  udpw run checks.udp --var host=127.0.0.1:9000 --bail --timeout 500`,
  run: runFiles,
};

interface LoadedFile {
  readonly path: string;
  readonly file: RequestFile;
}

async function runFiles(args: readonly string[], terminal: Terminal, stop: AbortSignal): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help) {
    terminal.out.write(`${runCommand.help}\n`);
    return EXIT.passed;
  }
  const reporter = choiceOption('reporter', values.reporter, REPORTERS) ?? 'pretty';
  const timeoutMs = integerOption('timeout', values.timeout, SEND_LIMITS.minTimeoutMs, SEND_LIMITS.maxTimeoutMs);
  const defaults: SendDefaults = {
    ...sendDefaults(),
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    ...(values.target === undefined ? {} : { target: checkedTarget(values.target) }),
  };
  if (positionals.length === 0) {
    throw new UsageError('Name the .udp files to run: udpw run checks.udp (globs such as "test/**/*.udp" too).');
  }
  const files = await loadFiles(await expand(positionals), variables(values.var ?? []), terminal);
  if (files === undefined) return EXIT.usage;

  const workbench = new Workbench();
  let capture: RunningCapture | undefined;
  try {
    if (values.capture !== undefined) capture = await startCapture(workbench, values.capture, terminal);
    const reports = await runAll(workbench, files, defaults, {
      bail: values.bail === true,
      stop,
      terminal,
      pretty: reporter === 'pretty' || values.out !== undefined,
    });
    if (reporter !== 'pretty') {
      const text = renderReport(reporter, reports);
      if (values.out === undefined) terminal.out.write(text);
      else await writeFile(values.out, text);
    }
    const passed = reports.length === files.length && reports.every(({ run }) => run.passed);
    return passed ? EXIT.passed : EXIT.failed;
  } finally {
    await workbench.dispose();
    if (capture) terminal.err.write(`${await capture.close()}\n`);
  }
}

interface RunAllOptions {
  readonly bail: boolean;
  readonly stop: AbortSignal;
  readonly terminal: Terminal;
  /** Print each block's result and each file's summary on stdout as they come. */
  readonly pretty: boolean;
}

async function runAll(
  workbench: Workbench,
  files: readonly LoadedFile[],
  defaults: SendDefaults,
  options: RunAllOptions,
): Promise<FileReport[]> {
  const { terminal, pretty, stop } = options;
  const reports: FileReport[] = [];
  let seq = 0;
  const progress = burstProgress(terminal);
  for (const { path, file } of files) {
    if (stop.aborted) break;
    const startedAt = new Date();
    const started = performance.now();
    if (pretty) terminal.out.write(`${path}\n`);
    const run = await runRequestFile(workbench, file, defaults, {
      signal: stop,
      bail: options.bail,
      nextSeq: (count) => {
        const first = seq + 1;
        seq += count;
        return first;
      },
      report: (block, message) => progress.show(`${escapeText(block.name)}: ${message}`),
      onBlockResult: (_block, result) => {
        progress.clear();
        if (!pretty) return;
        const colour =
          result.outcome === 'passed' ? 'green' : result.outcome === 'measured' || result.outcome === 'cancelled' ? 'yellow' : 'red';
        terminal.out.write(`  ${paint(terminal, colour, describeBlockResult(result))}\n`);
      },
    });
    progress.clear();
    reports.push({ path, file, run, startedAt, durationMs: performance.now() - started });
    if (pretty) terminal.out.write(`  ${paint(terminal, run.passed ? 'green' : 'red', describeRun(run.summary))}\n`);
    if (options.bail && !run.passed) break;
  }
  if (stop.aborted) terminal.err.write('udpw: stopped before every block had run\n');
  return reports;
}

const GLOB_CHARS = /[*?[\]{}]/;

/** Each argument as it is, or the files its glob finds (sorted); a glob that finds nothing is a mistake. */
async function expand(patterns: readonly string[]): Promise<string[]> {
  const paths: string[] = [];
  for (const pattern of patterns) {
    if (!GLOB_CHARS.test(pattern)) {
      paths.push(pattern);
      continue;
    }
    const found = (await glob(pattern, { onlyFiles: true, expandDirectories: false })).sort();
    if (found.length === 0) {
      throw new UsageError(`No file matches ${JSON.stringify(pattern)}: check the pattern, or quote it so the shell passes it as written.`);
    }
    paths.push(...found);
  }
  return [...new Set(paths)];
}

/** `--var name=value` pairs; a later one wins. */
function variables(pairs: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const pair of pairs) {
    const match = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(pair);
    if (!match) throw new UsageError(`--var ${JSON.stringify(pair)} is not NAME=VALUE: write e.g. --var host=127.0.0.1:9000.`);
    found.set(match[1], match[2]);
  }
  return found;
}

function checkedTarget(text: string): string {
  readOption('--target', () => parseEndpoint(text));
  return text;
}

/**
 * Reads and parses every file before sending anything: a file that cannot be read, or has errors, stops the run with
 * its problems as `file:line:column: message` (the text of the editor's diagnostics). Warnings are printed and run.
 */
async function loadFiles(
  paths: readonly string[],
  overrides: ReadonlyMap<string, string>,
  terminal: Terminal,
): Promise<LoadedFile[] | undefined> {
  const files: LoadedFile[] = [];
  let broken = false;
  for (const path of paths) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      terminal.err.write(`${path}: cannot be read: ${messageOf(error)}\n`);
      broken = true;
      continue;
    }
    const file = parseRequestFile(text, overrides);
    for (const problem of file.problems) {
      const where = `${path}:${problem.line + 1}:${problem.column + 1}`;
      terminal.err.write(`${where}: ${problem.severity === 'warning' ? 'warning: ' : ''}${problem.message}\n`);
      if (problem.severity === 'error') broken = true;
    }
    files.push({ path, file });
  }
  return broken ? undefined : files;
}
