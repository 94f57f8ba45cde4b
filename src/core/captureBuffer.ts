import type { CapturedDatagram } from './pcapng';

/** Payload bytes the buffer holds at most, whatever its capacity: 10,000 datagrams of 64 KiB would be 640 MiB. */
export const MAX_BUFFERED_BYTES = 64 << 20;

/** Small payloads are copied into chunks of this size, reused once every datagram in them is let go. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Payloads up to this size (any datagram that fits an Ethernet frame) are copied: measured at 1,400 bytes, a copy
 * costs less than keeping the payload's objects alive for the garbage collector. Larger ones are kept as they came,
 * rather than copied at up to 64 KiB a datagram.
 */
const MAX_COPIED_BYTES = 2048;

/**
 * The most recent datagrams, up to a count and a byte budget, and a count of those it let go: memory stays
 * bounded under a flood of any size of datagram.
 *
 * Every datagram would otherwise keep its own objects and its own payload alive until thousands more have come: a
 * long-lived heap the garbage collector walks again and again under a flood. So each slot is a row of typed arrays,
 * each small payload a copy in a reused chunk of bytes, and an address string is kept once while it repeats.
 */
export class CaptureBuffer {
  private atMicros!: Float64Array;
  private sourcePorts!: Uint16Array;
  private destinationPorts!: Uint16Array;
  private sourceAddresses!: string[];
  private destinationAddresses!: string[];
  private comments!: (string | undefined)[];
  private chunkOf!: Uint8Array[];
  private offsets!: Uint32Array;
  private lengths!: Uint32Array;
  /** Chunks in use, oldest first, with how many datagrams use each, and emptied ones kept for reuse. */
  private readonly chunks: Uint8Array[] = [];
  private readonly chunkUsers: number[] = [];
  private readonly spare: Uint8Array[] = [];
  /** Where the next payload goes in the newest chunk. */
  private written = 0;
  /** The payload copied last, as given. */
  private lastPayload: Buffer | undefined;
  /** Index of the oldest datagram kept. */
  private start = 0;
  private kept = 0;
  private bytes = 0;
  private dropped = 0;

  constructor(
    capacity: number,
    private readonly maxBytes = MAX_BUFFERED_BYTES,
  ) {
    this.allocate(checkCapacity(capacity));
  }

  readonly add = (datagram: CapturedDatagram): void => {
    const { payload, source, destination } = datagram;
    const capacity = this.atMicros.length;
    while (this.kept > 0 && (this.kept === capacity || this.bytes + payload.length > this.maxBytes)) this.dropOldest();
    const slot = (this.start + this.kept++) % capacity;
    const newest = (slot + capacity - 1) % capacity;
    this.atMicros[slot] = datagram.atMicros;
    this.sourcePorts[slot] = source.port;
    this.destinationPorts[slot] = destination.port;
    // The same address as the datagram before, in a string of its own: keep the one already kept.
    this.sourceAddresses[slot] = this.kept > 1 && source.address === this.sourceAddresses[newest] ? this.sourceAddresses[newest] : source.address;
    this.destinationAddresses[slot] = this.kept > 1 && destination.address === this.destinationAddresses[newest] ? this.destinationAddresses[newest] : destination.address;
    this.comments[slot] = datagram.comment;
    this.lengths[slot] = payload.length;
    this.bytes += payload.length;
    // A mirrored reply is its request's very bytes: keep them once.
    if (this.kept > 1 && payload === this.lastPayload) {
      const kept = this.chunkOf[newest];
      this.chunkOf[slot] = kept;
      this.offsets[slot] = this.offsets[newest];
      if (kept === this.chunks[this.chunks.length - 1]) this.chunkUsers[this.chunks.length - 1]++;
      return;
    }
    this.lastPayload = payload;
    if (payload.length > MAX_COPIED_BYTES) {
      this.chunkOf[slot] = payload;
      this.offsets[slot] = 0;
      return;
    }
    const chunk = this.room(payload.length);
    chunk.set(payload, this.written);
    this.chunkUsers[this.chunks.length - 1]++;
    this.chunkOf[slot] = chunk;
    this.offsets[slot] = this.written;
    this.written += payload.length;
  };

  /** Oldest first, each with a copy of its payload. */
  datagrams(): CapturedDatagram[] {
    const capacity = this.atMicros.length;
    return Array.from({ length: this.kept }, (_, i) => this.datagramAt((this.start + i) % capacity));
  }

  get size(): number {
    return this.kept;
  }

  get capacity(): number {
    return this.atMicros.length;
  }

  /** Datagrams let go to make room since the last clear. */
  get notKept(): number {
    return this.dropped;
  }

  /** Keeps the newest datagrams that fit the new capacity; those let go are counted. */
  resize(capacity: number): void {
    const kept = this.datagrams();
    const fitting = kept.slice(Math.max(0, kept.length - checkCapacity(capacity)));
    const dropped = this.dropped + kept.length - fitting.length;
    this.clear();
    this.allocate(capacity);
    fitting.forEach(this.add);
    this.dropped = dropped;
  }

  clear(): void {
    this.sourceAddresses.fill('');
    this.destinationAddresses.fill('');
    this.comments.fill(undefined);
    this.chunkOf.fill(EMPTY);
    this.chunks.length = 0;
    this.chunkUsers.length = 0;
    this.spare.length = 0;
    this.lastPayload = undefined;
    this.start = 0;
    this.kept = 0;
    this.bytes = 0;
    this.dropped = 0;
  }

  private allocate(capacity: number): void {
    this.atMicros = new Float64Array(capacity);
    this.sourcePorts = new Uint16Array(capacity);
    this.destinationPorts = new Uint16Array(capacity);
    this.sourceAddresses = new Array<string>(capacity).fill('');
    this.destinationAddresses = new Array<string>(capacity).fill('');
    this.comments = new Array<string | undefined>(capacity).fill(undefined);
    this.chunkOf = new Array<Uint8Array>(capacity).fill(EMPTY);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
    this.chunks.length = 0;
    this.chunkUsers.length = 0;
  }

  /** The chunk the next payload of `length` bytes (at most MAX_COPIED_BYTES) goes into, from `written` on. */
  private room(length: number): Uint8Array {
    const newest = this.chunks[this.chunks.length - 1];
    if (newest !== undefined && this.written + length <= CHUNK_BYTES) return newest;
    const chunk = this.spare.pop() ?? new Uint8Array(CHUNK_BYTES);
    this.chunks.push(chunk);
    this.chunkUsers.push(0);
    this.written = 0;
    return chunk;
  }

  private datagramAt(slot: number): CapturedDatagram {
    const offset = this.offsets[slot];
    const payload = Buffer.from(this.chunkOf[slot].subarray(offset, offset + this.lengths[slot]));
    const source = { address: this.sourceAddresses[slot], port: this.sourcePorts[slot] };
    const destination = { address: this.destinationAddresses[slot], port: this.destinationPorts[slot] };
    const comment = this.comments[slot];
    return comment === undefined ? { atMicros: this.atMicros[slot], source, destination, payload } : { atMicros: this.atMicros[slot], source, destination, payload, comment };
  }

  private dropOldest(): void {
    const slot = this.start;
    const chunk = this.chunkOf[slot];
    this.bytes -= this.lengths[slot];
    this.comments[slot] = undefined;
    this.chunkOf[slot] = EMPTY;
    this.start = (this.start + 1) % this.atMicros.length;
    this.kept--;
    this.dropped++;
    // Copies fill chunks in order, so the oldest copy kept is in the oldest chunk; once no datagram uses it, it is free.
    if (chunk !== this.chunks[0] || --this.chunkUsers[0] > 0) return;
    this.chunks.shift();
    this.chunkUsers.shift();
    this.spare.push(chunk);
  }
}

const EMPTY = new Uint8Array(0);

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A capture buffer holds at least 1 datagram, not ${capacity}.`);
  return capacity;
}
