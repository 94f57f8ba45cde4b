import * as fs from 'node:fs';
import * as path from 'node:path';

/** One figure held against its target; `pass` is undefined for figures printed for information only. */
export interface Check {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  readonly pass: boolean;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Nearest-rank percentile of an ascending array, p in (0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export const fmt = {
  int: (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a'),
  ms: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(n < 1 ? 3 : 2)} ms` : 'n/a'),
  ratio: (n: number): string => (Number.isFinite(n) ? `${n.toFixed(2)}×` : 'n/a'),
  pct: (n: number, digits = 2): string => (Number.isFinite(n) ? `${n.toFixed(digits)} %` : 'n/a'),
  mb: (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`,
  signedMb: (bytes: number): string => `${bytes >= 0 ? '+' : '−'}${(Math.abs(bytes) / 1024 / 1024).toFixed(2)} MB`,
  kb: (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`,
};

/** A plain text table: the first row is the header; columns after the first are right-aligned. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  const line = (row: readonly string[]): string =>
    row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ');
  return [line(rows[0]), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function checksTable(checks: readonly Check[]): string {
  return table([['figure', 'value', 'target', 'result'], ...checks.map((c) => [c.name, c.value, c.target, c.pass ? 'PASS' : 'MISS'])]);
}

export function heading(text: string): void {
  console.log(`\n── ${text} ${'─'.repeat(Math.max(0, 76 - text.length))}`);
}

/** Writes the results where `bench-results/` (gitignored) keeps the latest run; returns the path. */
export function writeJson(repoRoot: string, results: unknown): string {
  const file = path.join(repoRoot, 'bench-results', 'latest.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
