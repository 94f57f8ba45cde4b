import type { Clock, Timer } from '../../src/core/timing';

interface Waiting {
  readonly at: number;
  readonly order: number;
  readonly callback: () => void;
}

/** Time that moves only when a test says so: `tick(ms)` runs what falls due, in order, callbacks' own timers included. */
export class FakeClock implements Clock {
  now = 0;
  private scheduled = 0;
  private readonly waiting = new Set<Waiting>();

  setTimeout(callback: () => void, ms: number): Timer {
    const entry: Waiting = { at: this.now + Math.max(0, ms), order: this.scheduled++, callback };
    this.waiting.add(entry);
    return { cancel: () => void this.waiting.delete(entry) };
  }

  tick(ms: number): void {
    const until = this.now + ms;
    for (let next = this.due(until); next !== undefined; next = this.due(until)) {
      this.waiting.delete(next);
      this.now = next.at;
      next.callback();
    }
    this.now = until;
  }

  /** Timers set and neither run nor cancelled. */
  get pending(): number {
    return this.waiting.size;
  }

  private due(until: number): Waiting | undefined {
    let first: Waiting | undefined;
    for (const entry of this.waiting) {
      if (entry.at <= until && (!first || entry.at < first.at || (entry.at === first.at && entry.order < first.order))) first = entry;
    }
    return first;
  }
}
