import type { CaptureBuffer, RecordedDatagram } from '../capture/captureBuffer';
import { formatEndpoint } from '../endpoint';
import { previewText } from '../payload';
import { parseTrafficFilter, type TrafficFilter } from './trafficFilter';
import type { TrafficRow } from './messages';

/** Bytes of each datagram the list previews as text; the detail pane shows them all. */
export const ROW_PREVIEW_BYTES = 96;
/** Rows a window sends at most, whatever the view asks: a tall panel shows well under this. */
export const MAX_WINDOW_ROWS = 200;

/** The packet list's line for the datagram numbered `n`: addresses seen from the workbench, text escaped. */
export function trafficRow(n: number, datagram: RecordedDatagram, id = n): TrafficRow {
  const incoming = datagram.direction === 'in';
  return {
    n,
    id,
    time: timeOfDay(datagram.atMicros),
    direction: datagram.direction,
    local: formatEndpoint(incoming ? datagram.destination : datagram.source),
    peer: formatEndpoint(incoming ? datagram.source : datagram.destination),
    size: datagram.payload.length,
    fate: datagram.fate,
    note: datagram.comment ?? '',
    preview: previewText(datagram.payload, ROW_PREVIEW_BYTES),
  };
}

/** `14:03:07.123`, local time. */
function timeOfDay(atMicros: number): string {
  const at = new Date(atMicros / 1000);
  const two = (value: number): string => String(value).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/**
 * Which of the buffer's datagrams match the filter, by number, kept up to date a batch at a time: each batch tests
 * only what arrived since the last, and forgets what the buffer let go. The list's rows are a window on these.
 */
export class TrafficList {
  private filter: TrafficFilter = parseTrafficFilter('');
  /** Numbers of matching datagrams, ascending; those before `head` are gone from the buffer. */
  private matching: number[] = [];
  private head = 0;
  /** Datagrams numbered below this were tested. */
  private scanned = 0;

  constructor(private readonly buffer: CaptureBuffer) {}

  get filterError(): string | undefined {
    return this.filter.error;
  }

  /** Tests every datagram held again, against a new filter. */
  setFilter(text: string): void {
    this.filter = parseTrafficFilter(text);
    this.forget();
    this.update();
  }

  /** After the buffer was cleared: nothing matched yet. */
  forget(): void {
    this.matching = [];
    this.head = 0;
    this.scanned = 0;
  }

  /** Takes in what the buffer received since the last update and lets go of what it no longer holds. */
  update(): void {
    const added = this.buffer.added;
    if (added < this.scanned) this.forget(); // the buffer was cleared
    const oldest = added - this.buffer.size;
    for (let n = Math.max(this.scanned, oldest); n < added; n++) {
      if (this.filter.matches(this.buffer.view(n)!)) this.matching.push(n);
    }
    this.scanned = added;
    while (this.head < this.matching.length && this.matching[this.head] < oldest) this.head++;
    if (this.head > 4096 && this.head * 2 > this.matching.length) {
      this.matching = this.matching.slice(this.head);
      this.head = 0;
    }
  }

  /** Matching datagrams the buffer holds. */
  get matched(): number {
    return this.matching.length - this.head;
  }

  /** The index among the matching of the datagram numbered `n`, or of the first after it; 0 when it is gone. */
  indexOf(n: number): number {
    let low = this.head;
    let high = this.matching.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.matching[middle] < n) low = middle + 1;
      else high = middle;
    }
    return low - this.head;
  }

  /** Rows `first` to `first + count` of the matching ones, clamped to what there is. */
  window(first: number, count: number): { first: number; rows: TrafficRow[] } {
    const size = Math.min(Math.max(0, count), MAX_WINDOW_ROWS);
    const start = Math.max(0, Math.min(first, this.matched - size));
    const rows: TrafficRow[] = [];
    for (let i = start; i < Math.min(this.matched, start + size); i++) {
      const n = this.matching[this.head + i];
      rows.push(trafficRow(n, this.buffer.at(n)!, this.buffer.idOf(n)));
    }
    return { first: start, rows };
  }

  /** The datagrams held that share the exchange of the one numbered `n`, oldest first. */
  exchangeOf(n: number): TrafficRow[] {
    const buffer = this.buffer;
    const exchange = buffer.exchangeOf(buffer.idOf(n));
    if (exchange === undefined) return [];
    const rows: TrafficRow[] = [];
    for (let m = buffer.added - buffer.size; m < buffer.added; m++) {
      if (buffer.exchangeOf(buffer.idOf(m)) === exchange) rows.push(trafficRow(m, buffer.at(m)!, buffer.idOf(m)));
    }
    return rows;
  }
}
