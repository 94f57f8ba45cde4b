import { ExchangeKeys } from './captureExchange';
import type { CaptureAddress, CapturedDatagram } from './pcapng';
import { TRAFFIC_FATES, type TrafficDirection, type TrafficFate } from './datagramFate';

/** Bytes the buffer holds at most, payloads and records together, whatever its capacity. */
export const MAX_BUFFERED_BYTES = 64 << 20;
/**
 * What each datagram kept costs besides its payload: its columns (time, exchange, payload offset and length,
 * addresses and ports, direction and fate, comment). The byte budget counts it, so a capacity of a million small
 * datagrams stays within the budget too.
 */
export const RECORD_OVERHEAD_BYTES = 48;
/** The payload arena's first size; it grows by at least an eighth at a time, so it stays close to what it holds. */
const FIRST_ARENA_BYTES = 64 * 1024;
const ARENA_GROWTH = 1.125;

const DIRECTIONS: readonly TrafficDirection[] = ['in', 'out'];
const FATES: readonly TrafficFate[] = TRAFFIC_FATES;
const FATE_CODES: ReadonlyMap<TrafficFate, number> = new Map(FATES.map((fate, code) => [fate, code]));
const DIRECTION_IN = 0;
const DIRECTION_OUT = 1;

/** A recorded datagram with what the traffic view shows about it. */
export interface RecordedDatagram extends CapturedDatagram {
  readonly direction: TrafficDirection;
  readonly fate: TrafficFate;
  /**
   * Shared by a request and its replies: `serverId#seq` for a server's, `request N` for a send's; by a datagram a
   * proxy received and the copies it forwarded: `proxyId→server#seq` or `proxyId→client#seq`.
   */
  readonly exchange: string;
}

/** The fields a datagram is recorded with; the buffer copies the payload. */
export interface DatagramRecord {
  readonly atMicros: number;
  readonly source: CaptureAddress;
  readonly destination: CaptureAddress;
  readonly payload: Buffer;
  readonly direction: TrafficDirection;
  readonly fate: TrafficFate;
  /** From `exchanges`. */
  readonly exchange: number;
  readonly comment: string | undefined;
}

/**
 * The most recent datagrams, up to a count and a byte budget, and a count of those it let go: memory stays
 * bounded under a flood of any size of datagram. Kept as columns, not objects: payloads are copied into one byte
 * arena, everything else sits in typed arrays (addresses as indexes into a table of the few addresses seen), so
 * recording a datagram allocates nothing and a full buffer gives the garbage collector nothing to walk. A
 * datagram becomes an object only when it is read (`at`, `datagrams`, `view`).
 *
 * Numbering: `n` counts from 0 since the last clear (what the traffic view shows, `#n`); an id counts since the
 * buffer was made and is never reused, across clears too.
 */
export class CaptureBuffer {
  /** Names each exchange key; the recorder makes the keys. */
  readonly exchanges = new ExchangeKeys();
  private readonly addresses = new AddressTable();
  private columns: Columns;
  private arena: Buffer = Buffer.alloc(0);
  /** Next free byte of the arena, and the first byte of the oldest payload: the payloads live between them, wrapping. */
  private head = 0;
  private tail = 0;
  /** The newest payloads start back at the arena's beginning, before `tail`. */
  private wrapped = false;
  /** Slot of the oldest datagram kept. */
  private start = 0;
  private kept = 0;
  private payloadBytes = 0;
  private dropped = 0;
  /** Id the next datagram gets, and the id of the oldest kept. */
  private nextId = 0;
  private clearedAt = 0;
  /** The newest datagram is written but not yet counted (its server decides its fate at the end of the turn). */
  private pending = false;
  private readonly cursor = new DatagramView(this);

  constructor(
    capacity: number,
    private readonly maxBytes = MAX_BUFFERED_BYTES,
  ) {
    this.columns = new Columns(checkCapacity(capacity));
  }

  /** Records a datagram given whole (tests, and anything that is not the recorder); returns its id. */
  readonly add = (datagram: CapturedDatagram & Partial<Pick<RecordedDatagram, 'direction' | 'fate' | 'exchange'>>): number => {
    if (this.pending) this.commit();
    return this.write({
      atMicros: datagram.atMicros,
      source: datagram.source,
      destination: datagram.destination,
      payload: datagram.payload,
      direction: datagram.direction ?? 'in',
      fate: datagram.fate ?? 'received',
      exchange: this.exchanges.keyOf(datagram.exchange ?? ''),
      comment: datagram.comment,
    });
  };

  /**
   * Records a datagram; returns its id. `pending`: it is not counted (nor read) until `commit`, as it waits for
   * its server's decision; only one waits at a time, and it must be committed before the next write.
   */
  write(record: DatagramRecord, pending = false): number {
    const length = record.payload.length;
    while (this.kept > 0 && (this.kept === this.capacity || this.bytesWith(length) > this.maxBytes)) this.dropOldest();
    const offset = this.place(length);
    // TypedArray.set is a native memcpy; Buffer.copy goes through JavaScript first.
    this.arena.set(record.payload, offset);
    const slot = (this.start + this.kept) % this.capacity;
    const c = this.columns;
    c.atMicros[slot] = record.atMicros;
    c.exchange[slot] = record.exchange;
    c.offset[slot] = offset;
    c.length[slot] = length;
    c.source[slot] = this.addresses.take(record.source.address);
    c.destination[slot] = this.addresses.take(record.destination.address);
    c.sourcePort[slot] = record.source.port;
    c.destinationPort[slot] = record.destination.port;
    c.direction[slot] = record.direction === 'in' ? DIRECTION_IN : DIRECTION_OUT;
    c.fate[slot] = FATE_CODES.get(record.fate)!;
    c.comment[slot] = record.comment;
    this.kept++;
    this.payloadBytes += length;
    this.pending = pending;
    return this.nextId++;
  }

  /** Counts the datagram written pending. */
  commit(): void {
    this.pending = false;
  }

  /** A datagram's fate changes as its answer comes; nothing happens if it is no longer held. */
  setFate(id: number, fate: TrafficFate): void {
    const slot = this.slotOf(id, true);
    if (slot !== undefined) this.columns.fate[slot] = FATE_CODES.get(fate)!;
  }

  fateOf(id: number): TrafficFate | undefined {
    const slot = this.slotOf(id, true);
    return slot === undefined ? undefined : FATES[this.columns.fate[slot]];
  }

  setComment(id: number, comment: string | undefined): void {
    const slot = this.slotOf(id, true);
    if (slot !== undefined) this.columns.comment[slot] = comment;
  }

  /** The exchange key of a datagram held, by id. */
  exchangeOf(id: number): number | undefined {
    const slot = this.slotOf(id);
    return slot === undefined ? undefined : this.columns.exchange[slot];
  }

  /** Oldest first, each a copy. */
  datagrams(): RecordedDatagram[] {
    const first = this.added - this.size;
    return Array.from({ length: this.size }, (_, i) => this.at(first + i)!);
  }

  get size(): number {
    return this.pending ? this.kept - 1 : this.kept;
  }

  /**
   * Datagrams added since the last clear, kept or not. The datagram numbered `n` (from 0) is held while
   * `n >= added - size`; numbers never change as older datagrams go.
   */
  get added(): number {
    return this.nextId - this.clearedAt - (this.pending ? 1 : 0);
  }

  /** The id of the datagram numbered `n`: never reused, across clears too. */
  idOf(n: number): number {
    return this.clearedAt + n;
  }

  /** The datagram numbered `n` (see `added`), as a copy, if still held. */
  at(n: number): RecordedDatagram | undefined {
    const slot = this.slotOfNumber(n);
    if (slot === undefined) return undefined;
    const c = this.columns;
    const comment = c.comment[slot];
    const datagram = {
      atMicros: c.atMicros[slot],
      source: this.address(c.source[slot], c.sourcePort[slot]),
      destination: this.address(c.destination[slot], c.destinationPort[slot]),
      payload: Buffer.from(this.payloadAt(slot)),
      direction: DIRECTIONS[c.direction[slot]],
      fate: FATES[c.fate[slot]],
      exchange: this.exchanges.text(c.exchange[slot]),
    };
    return comment === undefined ? datagram : { ...datagram, comment };
  }

  /**
   * The datagram numbered `n`, if held, read in place through one shared view: valid until the next call of
   * `view` or the next write. Reading it allocates only what is asked for (a payload asked for is not copied).
   */
  view(n: number): DatagramView | undefined {
    const slot = this.slotOfNumber(n);
    if (slot === undefined) return undefined;
    this.cursor.slot = slot;
    return this.cursor;
  }

  /** The view of the datagram with this id (the recorder's, as it is recorded). */
  viewById(id: number): DatagramView | undefined {
    const slot = this.slotOf(id, true);
    if (slot === undefined) return undefined;
    this.cursor.slot = slot;
    return this.cursor;
  }

  get capacity(): number {
    return this.columns.capacity;
  }

  /** Datagrams let go to make room since the last clear. */
  get notKept(): number {
    return this.dropped;
  }

  /** Bytes held: payloads and each datagram's overhead. */
  get bytes(): number {
    return this.payloadBytes + this.kept * RECORD_OVERHEAD_BYTES;
  }

  /** Bytes of memory the buffer holds now: its columns and its payload arena. */
  get footprint(): number {
    return this.columns.bytes + this.arena.length;
  }

  /** Keeps the newest datagrams that fit the new capacity; those let go are counted. */
  resize(capacity: number): void {
    if (this.pending) this.commit();
    checkCapacity(capacity);
    while (this.kept > capacity) this.dropOldest();
    this.rebuild(capacity, this.arena.length);
  }

  clear(): void {
    this.addresses.clear();
    this.columns.comment.fill(undefined);
    this.arena = Buffer.alloc(0);
    this.head = this.tail = 0;
    this.wrapped = false;
    this.start = 0;
    this.kept = 0;
    this.payloadBytes = 0;
    this.dropped = 0;
    this.pending = false;
    this.clearedAt = this.nextId;
  }

  /** @internal For DatagramView. */
  payloadAt(slot: number): Buffer {
    const offset = this.columns.offset[slot];
    return this.arena.subarray(offset, offset + this.columns.length[slot]);
  }

  /** @internal For DatagramView. */
  address(index: number, port: number): CaptureAddress & { family: 'IPv4' | 'IPv6' } {
    const address = this.addresses.text(index);
    return { address, port, family: address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** @internal For DatagramView. */
  get columnsForView(): Columns {
    return this.columns;
  }

  /** @internal For DatagramView. */
  exchangeText(slot: number): string {
    return this.exchanges.text(this.columns.exchange[slot]);
  }

  /** Bytes held once one more datagram of `length` bytes is. */
  private bytesWith(length: number): number {
    return this.bytes + length + RECORD_OVERHEAD_BYTES;
  }

  private slotOfNumber(n: number): number | undefined {
    return Number.isInteger(n) ? this.slotOf(this.clearedAt + n) : undefined;
  }

  private slotOf(id: number, pendingToo = false): number | undefined {
    const index = id - (this.nextId - this.kept);
    const readable = pendingToo || !this.pending ? this.kept : this.kept - 1;
    return index >= 0 && index < readable && id >= this.clearedAt ? (this.start + index) % this.capacity : undefined;
  }

  /** Where a payload of `length` bytes goes: after the newest, or back at the start; the arena grows, or the oldest go. */
  private place(length: number): number {
    for (;;) {
      if (this.kept === 0) {
        this.head = this.tail = 0;
        this.wrapped = false;
        if (this.arena.length < length) this.grow(length);
      }
      if (this.wrapped) {
        if (this.tail - this.head >= length) return this.advance(length);
      } else {
        if (this.arena.length - this.head >= length) return this.advance(length);
        if (this.tail >= length) {
          this.head = 0;
          this.wrapped = true;
          return this.advance(length);
        }
      }
      if (this.arena.length < this.maxBytes) this.grow(length);
      else this.dropOldest();
    }
  }

  private advance(length: number): number {
    const offset = this.head;
    this.head += length;
    return offset;
  }

  /**
   * A larger arena, the payloads held copied into it in order: an eighth larger, or at once what the whole capacity
   * of datagrams of the average size held would take (a little more), so filling the buffer copies it a few times,
   * not dozens.
   */
  private grow(length: number): void {
    const needed = this.payloadBytes + length;
    const average = needed / (this.kept + 1);
    const full = Math.ceil(average * this.capacity * ARENA_GROWTH);
    const size = Math.min(this.maxBytes, Math.max(FIRST_ARENA_BYTES, Math.ceil(this.arena.length * ARENA_GROWTH), full));
    this.rebuild(this.capacity, Math.max(size, needed));
  }

  /** Columns of `capacity` slots and an arena of `arenaBytes`, the datagrams held copied in, oldest at slot 0 and byte 0. */
  private rebuild(capacity: number, arenaBytes: number): void {
    const old = this.columns;
    const columns = new Columns(capacity);
    const arena = Buffer.allocUnsafeSlow(arenaBytes);
    let offset = 0;
    for (let i = 0; i < this.kept; i++) {
      const from = (this.start + i) % old.capacity;
      columns.copySlot(old, from, i);
      const length = old.length[from];
      this.arena.copy(arena, offset, old.offset[from], old.offset[from] + length);
      columns.offset[i] = offset;
      offset += length;
    }
    this.columns = columns;
    this.arena = arena;
    this.start = 0;
    this.head = offset;
    this.tail = 0;
    this.wrapped = false;
  }

  private dropOldest(): void {
    const c = this.columns;
    const slot = this.start;
    this.payloadBytes -= c.length[slot];
    this.addresses.release(c.source[slot]);
    this.addresses.release(c.destination[slot]);
    c.comment[slot] = undefined;
    this.start = (slot + 1) % this.capacity;
    this.kept--;
    this.dropped++;
    if (this.kept === 0) return;
    const next = c.offset[this.start];
    if (next < this.tail) this.wrapped = false;
    this.tail = next;
  }
}

/** A datagram held, read in place: see `CaptureBuffer.view`. */
export class DatagramView implements RecordedDatagram {
  slot = 0;

  constructor(private readonly buffer: CaptureBuffer) {}

  get atMicros(): number {
    return this.buffer.columnsForView.atMicros[this.slot];
  }

  get source(): CaptureAddress {
    const c = this.buffer.columnsForView;
    return this.buffer.address(c.source[this.slot], c.sourcePort[this.slot]);
  }

  get destination(): CaptureAddress {
    const c = this.buffer.columnsForView;
    return this.buffer.address(c.destination[this.slot], c.destinationPort[this.slot]);
  }

  /** In place: copy it to keep it. */
  get payload(): Buffer {
    return this.buffer.payloadAt(this.slot);
  }

  get direction(): TrafficDirection {
    return DIRECTIONS[this.buffer.columnsForView.direction[this.slot]];
  }

  get fate(): TrafficFate {
    return FATES[this.buffer.columnsForView.fate[this.slot]];
  }

  get exchange(): string {
    return this.buffer.exchangeText(this.slot);
  }

  get comment(): string | undefined {
    return this.buffer.columnsForView.comment[this.slot];
  }
}

/** One typed array per field, a slot per datagram. */
class Columns {
  readonly atMicros: Float64Array;
  readonly exchange: Float64Array;
  readonly offset: Uint32Array;
  readonly length: Uint32Array;
  readonly source: Uint32Array;
  readonly destination: Uint32Array;
  readonly sourcePort: Uint16Array;
  readonly destinationPort: Uint16Array;
  readonly direction: Uint8Array;
  readonly fate: Uint8Array;
  /** Nearly always undefined: most datagrams have nothing to say. */
  readonly comment: Array<string | undefined>;

  constructor(readonly capacity: number) {
    this.atMicros = new Float64Array(capacity);
    this.exchange = new Float64Array(capacity);
    this.offset = new Uint32Array(capacity);
    this.length = new Uint32Array(capacity);
    this.source = new Uint32Array(capacity);
    this.destination = new Uint32Array(capacity);
    this.sourcePort = new Uint16Array(capacity);
    this.destinationPort = new Uint16Array(capacity);
    this.direction = new Uint8Array(capacity);
    this.fate = new Uint8Array(capacity);
    this.comment = new Array<string | undefined>(capacity).fill(undefined);
  }

  get bytes(): number {
    return this.capacity * (8 + 8 + 4 + 4 + 4 + 4 + 2 + 2 + 1 + 1 + 8);
  }

  copySlot(from: Columns, slot: number, to: number): void {
    this.atMicros[to] = from.atMicros[slot];
    this.exchange[to] = from.exchange[slot];
    this.length[to] = from.length[slot];
    this.source[to] = from.source[slot];
    this.destination[to] = from.destination[slot];
    this.sourcePort[to] = from.sourcePort[slot];
    this.destinationPort[to] = from.destinationPort[slot];
    this.direction[to] = from.direction[slot];
    this.fate[to] = from.fate[slot];
    this.comment[to] = from.comment[slot];
  }
}

/**
 * The addresses the datagrams held came from or went to, each once, counted by the datagrams that use it: a
 * flood from one peer looks up one string, and an address no datagram uses any more is forgotten.
 */
class AddressTable {
  private readonly indexes = new Map<string, number>();
  private texts: string[] = [];
  private uses: number[] = [];
  private free: number[] = [];
  private last = '';
  private lastIndex = -1;

  take(address: string): number {
    let index = address === this.last ? this.lastIndex : this.indexes.get(address);
    if (index === undefined) {
      index = this.free.pop() ?? this.texts.length;
      this.texts[index] = address;
      this.uses[index] = 0;
      this.indexes.set(address, index);
    }
    this.uses[index]++;
    this.last = address;
    this.lastIndex = index;
    return index;
  }

  release(index: number): void {
    if (--this.uses[index] > 0) return;
    this.indexes.delete(this.texts[index]);
    if (this.lastIndex === index) this.lastIndex = -1;
    if (this.last === this.texts[index]) this.last = '';
    this.free.push(index);
  }

  text(index: number): string {
    return this.texts[index];
  }

  clear(): void {
    this.indexes.clear();
    this.texts = [];
    this.uses = [];
    this.free = [];
    this.last = '';
    this.lastIndex = -1;
  }
}

function checkCapacity(capacity: number): number {
  if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`A capture buffer holds at least 1 datagram, not ${capacity}.`);
  return capacity;
}
