import type { CapturedDatagram } from './pcapng';

/** Payload bytes the buffer holds at most, whatever its capacity: 10,000 datagrams of 64 KiB would be 640 MiB. */
export const MAX_BUFFERED_BYTES = 64 << 20;

/**
 * The most recent datagrams, up to a count and a byte budget, and a count of those it let go: memory stays
 * bounded under a flood of any size of datagram.
 */
export class CaptureBuffer<T extends CapturedDatagram = CapturedDatagram> {
  private slots: Array<T | undefined>;
  /** Index of the oldest datagram kept. */
  private start = 0;
  private kept = 0;
  private bytes = 0;
  private dropped = 0;
  private total = 0;

  constructor(
    capacity: number,
    private readonly maxBytes = MAX_BUFFERED_BYTES,
  ) {
    this.slots = new Array<T | undefined>(checkCapacity(capacity));
  }

  readonly add = (datagram: T): void => {
    while (this.kept > 0 && (this.kept === this.slots.length || this.bytes + datagram.payload.length > this.maxBytes)) this.dropOldest();
    this.slots[(this.start + this.kept++) % this.slots.length] = datagram;
    this.bytes += datagram.payload.length;
    this.total++;
  };

  /** Oldest first. */
  datagrams(): T[] {
    const capacity = this.slots.length;
    return Array.from({ length: this.kept }, (_, i) => this.slots[(this.start + i) % capacity]!);
  }

  get size(): number {
    return this.kept;
  }

  /**
   * Datagrams added since the last clear, kept or not. The datagram numbered `n` (from 0) is held while
   * `n >= added - size`; numbers never change as older datagrams go.
   */
  get added(): number {
    return this.total;
  }

  /** The datagram numbered `n` (see `added`), if still held. */
  at(n: number): T | undefined {
    const index = n - (this.total - this.kept);
    return Number.isInteger(index) && index >= 0 && index < this.kept ? this.slots[(this.start + index) % this.slots.length] : undefined;
  }

  get capacity(): number {
    return this.slots.length;
  }

  /** Datagrams let go to make room since the last clear. */
  get notKept(): number {
    return this.dropped;
  }

  /** Keeps the newest datagrams that fit the new capacity; those let go are counted. */
  resize(capacity: number): void {
    const kept = this.datagrams();
    const fitting = kept.slice(Math.max(0, kept.length - checkCapacity(capacity)));
    this.dropped += kept.length - fitting.length;
    this.slots = new Array<T | undefined>(capacity);
    fitting.forEach((datagram, i) => (this.slots[i] = datagram));
    this.start = 0;
    this.kept = fitting.length;
    this.bytes = fitting.reduce((sum, datagram) => sum + datagram.payload.length, 0);
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.kept = 0;
    this.bytes = 0;
    this.dropped = 0;
    this.total = 0;
  }

  private dropOldest(): void {
    this.bytes -= this.slots[this.start]!.payload.length;
    this.slots[this.start] = undefined;
    this.start = (this.start + 1) % this.slots.length;
    this.kept--;
    this.dropped++;
  }
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A capture buffer holds at least 1 datagram, not ${capacity}.`);
  return capacity;
}
