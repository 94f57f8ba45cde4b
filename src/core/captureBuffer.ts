import type { CapturedDatagram } from './pcapng';

/** The most recent datagrams, up to a capacity, and a count of those it let go: memory stays bounded under a flood. */
export class CaptureBuffer {
  private slots: Array<CapturedDatagram | undefined>;
  /** Index of the oldest datagram kept. */
  private start = 0;
  private kept = 0;
  private dropped = 0;

  constructor(capacity: number) {
    this.slots = new Array<CapturedDatagram | undefined>(checkCapacity(capacity));
  }

  readonly add = (datagram: CapturedDatagram): void => {
    const capacity = this.slots.length;
    if (this.kept < capacity) {
      this.slots[(this.start + this.kept++) % capacity] = datagram;
      return;
    }
    this.slots[this.start] = datagram;
    this.start = (this.start + 1) % capacity;
    this.dropped++;
  };

  /** Oldest first. */
  datagrams(): CapturedDatagram[] {
    const capacity = this.slots.length;
    return Array.from({ length: this.kept }, (_, i) => this.slots[(this.start + i) % capacity]!);
  }

  get size(): number {
    return this.kept;
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
    this.slots = new Array<CapturedDatagram | undefined>(capacity);
    fitting.forEach((datagram, i) => (this.slots[i] = datagram));
    this.start = 0;
    this.kept = fitting.length;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.start = 0;
    this.kept = 0;
    this.dropped = 0;
  }
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A capture buffer holds at least 1 datagram, not ${capacity}.`);
  return capacity;
}
