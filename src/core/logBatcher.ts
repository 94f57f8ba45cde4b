import { formatEndpoint } from './endpoint';
import type { WorkbenchEvent } from './events';
import { describeDropReason, describeEvent, plural, type DescribeOptions } from './eventText';

/** Where batched lines go: a VS Code LogOutputChannel, or memory in the benchmark. */
export interface LogWriter {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export interface LogBatcherOptions extends DescribeOptions {
  /** Time between writes; a few flushes a second whatever the datagram rate. */
  readonly flushIntervalMs: number;
  /** Datagram events shown per flush; the rest are counted and summarised. */
  readonly maxDatagramsPerFlush: number;
}

// 4 flushes of at most 100 datagram lines a second keep even a visible Output panel responsive.
export const DEFAULT_BATCHING = { flushIntervalMs: 250, maxDatagramsPerFlush: 100 } as const;

/** Summaries are keyed by peer; past this many peers in one flush they are folded into one line. */
const MAX_SUMMARY_KEYS = 100;

interface Summary {
  /** The first event summarised under this key: it names the server, peer and reason. */
  readonly sample: DatagramEvent;
  /** Folded into "other peers" because too many peers were summarised already. */
  readonly others: boolean;
  count: number;
}

/**
 * Turns the event stream into log lines without letting a flood reach the editor: events wait in a
 * bounded queue and are written a few times a second; datagram events past the per-flush budget are
 * only counted, then reported as "N more … not shown", so no count is ever lost.
 */
export class LogBatcher {
  private queue: WorkbenchEvent[] = [];
  private datagramsQueued = 0;
  private summaries = new Map<string, Summary>();
  private lastSummary: Partial<Record<DatagramEvent['kind'], Summary>> = {};
  private timer: NodeJS.Timeout | undefined;
  private flushCount = 0;
  private notShownTotal = 0;

  constructor(
    private readonly writer: LogWriter,
    private options: LogBatcherOptions,
  ) {}

  /** The hot path: called once per event, never formats or writes. */
  readonly add = (event: WorkbenchEvent): void => {
    if (isDatagramEvent(event)) {
      if (this.datagramsQueued >= this.options.maxDatagramsPerFlush) {
        this.summarise(event);
        this.schedule();
        return;
      }
      this.datagramsQueued++;
    }
    this.queue.push(event);
    this.schedule();
  };

  /** Applies new preview and batching settings from the next flush on. */
  configure(options: LogBatcherOptions): void {
    this.options = options;
  }

  /** Writes what is waiting now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const queue = this.queue;
    const summaries = this.summaries;
    if (queue.length === 0 && summaries.size === 0) return;
    this.queue = [];
    this.datagramsQueued = 0;
    this.summaries = new Map();
    this.lastSummary = {};
    this.flushCount++;
    for (const event of queue) {
      const entry = describeEvent(event, this.options);
      this.writer[entry.level](entry.text);
    }
    for (const { sample, others, count } of summaries.values()) {
      this.writer[sample.kind === 'dropped' ? 'warn' : 'info'](`${plural(count, 'more datagram')} ${summaryText(sample, others)} not shown`);
    }
  }

  /** For tests and the benchmark: how many flushes wrote something, and how many events were only counted. */
  get stats(): { flushes: number; notShown: number } {
    return { flushes: this.flushCount, notShown: this.notShownTotal };
  }

  dispose(): void {
    this.flush();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => this.flush(), this.options.flushIntervalMs);
  }

  private summarise(event: DatagramEvent): void {
    this.notShownTotal++;
    // A flood usually comes from one peer: reuse the last summary of this kind without building a key.
    const last = this.lastSummary[event.kind];
    if (last && !last.others && sameSource(last.sample, event)) {
      last.count++;
      return;
    }
    const reason = event.kind === 'dropped' ? event.reason : '';
    let key = `${event.kind}|${event.serverId}|${event.peer.address}|${event.peer.port}|${reason}`;
    let others = false;
    if (this.summaries.size >= MAX_SUMMARY_KEYS && !this.summaries.has(key)) {
      key = `${event.kind}|${event.serverId}|others|${reason}`;
      others = true;
    }
    let summary = this.summaries.get(key);
    if (summary) summary.count++;
    else this.summaries.set(key, (summary = { sample: event, others, count: 1 }));
    this.lastSummary[event.kind] = summary;
  }
}

function sameSource(a: DatagramEvent, b: DatagramEvent): boolean {
  return (
    a.serverId === b.serverId &&
    a.peer.port === b.peer.port &&
    a.peer.address === b.peer.address &&
    (a.kind !== 'dropped' || (b.kind === 'dropped' && a.reason === b.reason))
  );
}

type DatagramEvent = Extract<WorkbenchEvent, { kind: 'received' | 'replied' | 'dropped' }>;

function isDatagramEvent(event: WorkbenchEvent): event is DatagramEvent {
  return event.kind === 'received' || event.kind === 'replied' || event.kind === 'dropped';
}

function summaryText(event: DatagramEvent, others: boolean): string {
  const peer = others ? 'other peers' : formatEndpoint(event.peer);
  switch (event.kind) {
    case 'received':
      return `received by ${event.serverId} from ${peer}`;
    case 'replied':
      return `replied by ${event.serverId} to ${peer}`;
    case 'dropped':
      return `dropped by ${event.serverId} from ${peer} (${describeDropReason(event.reason)})`;
  }
}
