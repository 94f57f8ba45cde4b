import { hostname } from 'node:os';
import { describeExpectation } from '../core/requests/expectation';
import type { RequestFile } from '../core/requests/requestFile';
import type { FileRunResult } from '../core/requests/requestFileRun';
import { describeBlockResult, describeRun, type BlockResult } from '../core/requests/requestRun';

/** One file's run, as the reports show it. */
export interface FileReport {
  /** As given on the command line (or found by its glob). */
  readonly path: string;
  readonly file: RequestFile;
  readonly run: FileRunResult;
  readonly startedAt: Date;
  readonly durationMs: number;
}

export type ReporterName = 'pretty' | 'junit' | 'json' | 'tap';
export const REPORTERS: readonly ReporterName[] = ['pretty', 'junit', 'json', 'tap'];

export function renderReport(reporter: Exclude<ReporterName, 'pretty'>, files: readonly FileReport[]): string {
  switch (reporter) {
    case 'junit':
      return junitReport(files);
    case 'json':
      return `${JSON.stringify(jsonReport(files), null, 2)}\n`;
    case 'tap':
      return tapReport(files);
  }
}

/** What a block expected and what came, for a failure's text: the expectation as the file says it, the reply as received. */
export function expectedAndReceived(file: RequestFile, result: BlockResult): string {
  const block = file.blocks.find((candidate) => candidate.range.start === result.line);
  const expectation = block?.expect?.value;
  const expected = expectation ? `a reply that ${describeExpectation(expectation)}` : 'a reply';
  const received = result.replyBytes === undefined ? 'no reply' : `${result.replyBytes} B: ${JSON.stringify(result.reply ?? '')}`;
  return `expected: ${expected}\nreceived: ${received}`;
}

/**
 * JUnit XML as GitHub's, GitLab's and Jenkins' readers take it: one <testsuite> per file, one <testcase> per block,
 * a <failure> for a block that did not pass (a reply that failed its @expect, a timeout, a burst that lost datagrams)
 * and an <error> for one that could not be sent.
 */
function junitReport(files: readonly FileReport[]): string {
  const all = files.flatMap(({ run }) => run.results);
  const failures = all.filter((result) => isFailure(result)).length;
  const errors = all.filter((result) => result.outcome === 'not-sent').length;
  const skipped = all.filter((result) => result.outcome === 'cancelled').length;
  const seconds = (ms: number): string => (ms / 1000).toFixed(3);
  const totalMs = files.reduce((sum, { durationMs }) => sum + durationMs, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="udpw run" tests="${all.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(totalMs)}">`,
  ];
  for (const report of files) {
    const { path, file, run, startedAt, durationMs } = report;
    const { results } = run;
    lines.push(
      `  <testsuite name="${xml(path)}" tests="${results.length}" failures="${results.filter(isFailure).length}" errors="${run.summary.notSent}"` +
        ` skipped="${run.summary.cancelled}" time="${seconds(durationMs)}" timestamp="${startedAt.toISOString().slice(0, 19)}" hostname="${xml(hostname())}">`,
    );
    for (const result of results) {
      const time = seconds(result.burst?.durationMs ?? result.rttMs ?? 0);
      lines.push(
        `    <testcase name="${xml(result.name)}" classname="${xml(path)}" file="${xml(path)}" line="${result.line + 1}" time="${time}">`,
      );
      const text = `${path}:${result.line + 1}: ${describeBlockResult(result)}`;
      if (result.outcome === 'not-sent') {
        lines.push(`      <error message="${xml(result.detail)}" type="not-sent">${xml(text)}</error>`);
      } else if (result.outcome === 'cancelled') {
        lines.push(`      <skipped message="${xml(result.detail)}"/>`);
      } else if (isFailure(result)) {
        const body = result.burst ? text : `${expectedAndReceived(file, result)}\n${text}`;
        lines.push(`      <failure message="${xml(result.detail)}" type="${result.outcome}">${xml(body)}</failure>`);
      }
      lines.push(`      <system-out>${xml(describeBlockResult(result))}</system-out>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>', '');
  return lines.join('\n');
}

function isFailure(result: BlockResult): boolean {
  return result.outcome === 'failed' || result.outcome === 'timeout' || result.outcome === 'measured';
}

/** Text and attribute values; characters XML 1.0 cannot hold at all become U+FFFD. */
function xml(text: string): string {
  return Array.from(text, (char) => (isXmlChar(char.codePointAt(0) ?? 0) ? char : '\ufffd'))
    .join('')
    .replace(/[<>&"]/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[char] ?? char)
    .replace(/\n/g, '&#10;');
}

function isXmlChar(code: number): boolean {
  return (
    code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && (code < 0xd800 || code > 0xdfff) && code !== 0xfffe && code !== 0xffff)
  );
}

function jsonReport(files: readonly FileReport[]): unknown {
  return {
    passed: files.every(({ run }) => run.passed),
    files: files.map(({ path, run, durationMs }) => ({
      file: path,
      passed: run.passed,
      summary: describeRun(run.summary),
      counts: run.summary,
      durationMs,
      blocks: run.results.map(({ error: _error, problems, ...result }) => ({ ...result, line: result.line + 1, problems })),
    })),
  };
}

/** TAP 13: one test point per block, the file's name before the block's. */
function tapReport(files: readonly FileReport[]): string {
  const results = files.flatMap(({ path, run }) => run.results.map((result) => ({ path, result })));
  const lines = ['TAP version 13', `1..${results.length}`];
  results.forEach(({ path, result }, index) => {
    const ok = result.outcome === 'passed';
    const name = `${path} › ${result.name}`.replace(/#/g, '\\#').replace(/\n/g, ' ');
    const skip = result.outcome === 'cancelled' ? ' # SKIP cancelled' : '';
    lines.push(`${ok || skip ? 'ok' : 'not ok'} ${index + 1} - ${name}${skip}`);
    if (!ok) {
      lines.push(
        '  ---',
        `  message: ${JSON.stringify(result.detail)}`,
        `  outcome: ${result.outcome}`,
        `  at: ${path}:${result.line + 1}`,
        '  ...',
      );
    }
  });
  return `${lines.join('\n')}\n`;
}
