import { createRandom } from './random';

/** Most round-trip times kept for percentiles; min, max, mean and count always cover every sample. */
const MAX_SAMPLES = 100_000;
const RESERVOIR_SEED = 1;

export interface RoundTripSummary {
  readonly count: number;
  /** The rest are in ms, and undefined until the first sample. */
  readonly min: number | undefined;
  readonly mean: number | undefined;
  readonly p50: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

/**
 * Round-trip times in ms. Percentiles are exact up to MAX_SAMPLES samples, then drawn from a uniform
 * reservoir sample (algorithm R, fixed seed, so the same run gives the same percentiles).
 */
export class RoundTripStats {
  private readonly samples: number[] = [];
  private sorted: Float64Array | undefined;
  private readonly random = createRandom(RESERVOIR_SEED);
  private total = 0;
  private smallest = Infinity;
  private largest = -Infinity;
  private added = 0;

  add(ms: number): void {
    this.added++;
    this.total += ms;
    this.smallest = Math.min(this.smallest, ms);
    this.largest = Math.max(this.largest, ms);
    if (this.samples.length < MAX_SAMPLES) {
      this.samples.push(ms);
    } else {
      const slot = Math.floor(this.random() * this.added);
      if (slot >= MAX_SAMPLES) return;
      this.samples[slot] = ms;
    }
    this.sorted = undefined;
  }

  get count(): number {
    return this.added;
  }

  get min(): number | undefined {
    return this.added > 0 ? this.smallest : undefined;
  }

  get max(): number | undefined {
    return this.added > 0 ? this.largest : undefined;
  }

  get mean(): number | undefined {
    return this.added > 0 ? this.total / this.added : undefined;
  }

  /** Nearest rank: the smallest sample with at least p% of the samples at or below it. */
  percentile(p: number): number | undefined {
    if (!(p >= 0 && p <= 100)) throw new RangeError(`A percentile is between 0 and 100; got ${p}.`);
    if (this.samples.length === 0) return undefined;
    // A typed array sorts numbers without a comparator: about ten times faster, so 100,000 samples do not stall the editor.
    this.sorted ??= Float64Array.from(this.samples).sort();
    const rank = Math.max(1, Math.ceil((p / 100) * this.sorted.length));
    return this.sorted[rank - 1];
  }

  get p50(): number | undefined {
    return this.percentile(50);
  }

  get p99(): number | undefined {
    return this.percentile(99);
  }

  summary(): RoundTripSummary {
    return { count: this.count, min: this.min, mean: this.mean, p50: this.p50, p99: this.p99, max: this.max };
  }
}

// toLocaleString builds a formatter on every call; the log writes counts hundreds of times a second under load.
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

/** Every count in a message, written one way: `65,507`, `1,000,000`. */
export function formatCount(count: number): string {
  return COUNT_FORMAT.format(count);
}

/**
 * A count and its noun, plural unless it is one: `1 byte`, `65,507 bytes`, `3 tries`. English, for the log and the
 * core's messages; what the VS Code layer shows goes through src/vscode/counts.ts, which translates.
 */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : nouns}`;
}

/** About three significant digits: `0.42 ms`, `12.3 ms`, `250 ms`, `1.20 s`, `95.0 s`. */
export function formatMs(ms: number): string {
  const inMs = roundToThreeDigits(ms);
  if (Math.abs(Number(inMs)) < 1000) return `${inMs} ms`;
  return `${roundToThreeDigits(ms / 1000)} s`;
}

function roundToThreeDigits(value: number): string {
  const size = Math.abs(value);
  return value.toFixed(size < 9.995 ? 2 : size < 99.95 ? 1 : 0);
}
