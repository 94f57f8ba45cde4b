import { formatEndpoint } from '../endpoint';
import type { WorkbenchEvent } from '../events';
import { describeDirection, describeDropReason, describeEvent, describeProxyDropReason, type DescribeOptions } from './eventText';
import { formatCount, plural } from '../stats';
import { Coalescer, SYSTEM_CLOCK, type Clock } from '../timing';

/** Where batched lines go: a VS Code LogOutputChannel, or memory in the benchmark. */
export interface LogWriter {
  info(text: string): void;
  warn(text: string): void;
  error(text: string): void;
}

export interface LogBatcherOptions extends DescribeOptions {
  /** Time between writes; a few flushes a second whatever the datagram rate. */
  readonly flushIntervalMs: number;
  /** Datagram and error events kept per flush; the rest are counted and summarised. */
  readonly maxEventsPerFlush: number;
  /** What one flush writes at most, in lines and UTF-8 bytes; the entries past it are counted and summarised too. */
  readonly maxLinesPerFlush: number;
  readonly maxBytesPerFlush: number;
}

// 4 flushes a second of at most 100 datagram or error entries, 500 lines and 64 KiB keep even a visible Output
// panel responsive; one entry is at most a small part of that (eventText caps its preview).
export const DEFAULT_BATCHING = {
  flushIntervalMs: 250,
  maxEventsPerFlush: 100,
  maxLinesPerFlush: 500,
  maxBytesPerFlush: 64 * 1024,
} as const;

/** Summaries are keyed by peer; past this many peers in one flush they are folded into one line. */
const MAX_SUMMARY_KEYS = 100;
/**
 * The summaries used last, newest first, tried before building a key: a flood from one peer alternates between its
 * received and replied summaries (and a drop's), so a few cover it.
 */
const RECENT_SUMMARIES = 4;

interface Summary {
  /** The first event summarised under this key: it names the server, peer and reason, or the error. */
  readonly sample: SummarisedEvent;
  /** Folded into "other peers" because too many peers were summarised already. */
  readonly others: boolean;
  count: number;
}

/**
 * Turns the event stream into log lines without letting a flood reach the editor: events wait in a
 * bounded queue and are written a few times a second; datagram and error events past the per-flush
 * budget (of events, lines and bytes) are only counted, then reported as "N more … not shown", so no
 * count is ever lost.
 */
export class LogBatcher {
  private queue: Array<Exclude<WorkbenchEvent, UnloggedEvent>> = [];
  private summarisedQueued = 0;
  private summaries = new Map<string, Summary>();
  private recentSummaries: Summary[] = [];
  private readonly flushLater: Coalescer;
  private flushCount = 0;
  private notShownTotal = 0;

  constructor(
    private readonly writer: LogWriter,
    private options: LogBatcherOptions,
    clock: Clock = SYSTEM_CLOCK,
  ) {
    this.flushLater = new Coalescer(
      () => this.flush(),
      () => this.options.flushIntervalMs,
      clock,
    );
  }

  /** The hot path: called once per event, never formats or writes. */
  readonly add = (event: WorkbenchEvent): void => {
    switch (event.kind) {
      // A flood is made of these: tested first.
      case 'received':
      case 'replied':
      case 'dropped':
        break;
      // A proxy's forwarded or dropped line names each datagram it received: its arrival is for the traffic view and
      // capture. The burst's caller reports its result: the event tells the traffic view which datagrams timed out.
      case 'proxy-received':
      case 'burst-finished':
        return;
      // A burst's datagrams are a flood by design, and its caller reports its result: they are only counted.
      case 'burst-sent':
      case 'burst-reply':
        this.summarise(event);
        this.schedule();
        return;
    }
    if (isSummarised(event)) {
      if (this.summarisedQueued >= this.options.maxEventsPerFlush) {
        this.summarise(event);
        this.schedule();
        return;
      }
      this.summarisedQueued++;
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
    this.flushLater.cancel();
    const queue = this.queue;
    if (queue.length === 0 && this.summaries.size === 0) return;
    this.queue = [];
    this.summarisedQueued = 0;
    this.flushCount++;
    let lines = this.options.maxLinesPerFlush;
    let bytes = this.options.maxBytesPerFlush;
    let spent = false;
    for (const event of queue) {
      const summarised = isSummarised(event);
      if (summarised && spent) {
        this.summarise(event);
        continue;
      }
      const entry = describeEvent(event, this.options);
      const entryLines = lineCount(entry.text);
      const entryBytes = Buffer.byteLength(entry.text);
      // Once an entry does not fit, the rest are counted too, so what is shown keeps its order.
      if (summarised && (entryLines > lines || entryBytes > bytes)) {
        spent = true;
        this.summarise(event);
        continue;
      }
      lines -= entryLines;
      bytes -= entryBytes;
      this.writer[entry.level](entry.text);
    }
    const summaries = this.summaries;
    this.summaries = new Map();
    this.recentSummaries = [];
    for (const { sample, others, count } of summaries.values()) {
      const { level, text } = summaryLine(sample, others, count);
      this.writer[level](text);
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
    this.flushLater.request();
  }

  private summarise(event: SummarisedEvent): void {
    this.notShownTotal++;
    const recent = this.recentSummaries;
    for (let i = 0; i < recent.length; i++) {
      const summary = recent[i];
      // The kind first: most misses are a received datagram's summary asked about its reply, and this check is cheaper.
      if (summary.sample.kind === event.kind && sameSource(summary.sample, event)) {
        summary.count++;
        return;
      }
    }
    let key = summaryKey(event, false);
    let others = false;
    if (this.summaries.size >= MAX_SUMMARY_KEYS && !this.summaries.has(key)) {
      key = summaryKey(event, true);
      others = true;
    }
    let summary = this.summaries.get(key);
    if (summary) summary.count++;
    else this.summaries.set(key, (summary = { sample: event, others, count: 1 }));
    if (!others) {
      recent.unshift(summary);
      if (recent.length > RECENT_SUMMARIES) recent.pop();
    }
  }
}

/**
 * Events that come one at a time, always shown: a server starting, stopping or reconfigured, the system's drops
 * (sampled a few times a second), and what a single send did.
 */
type AlwaysShownEvent = Extract<
  WorkbenchEvent,
  {
    kind:
      | 'server-started'
      | 'server-stopped'
      | 'server-configured'
      | 'kernel-dropped'
      | 'kernel-drops-unavailable'
      | 'sent'
      | 'reply'
      | 'timeout'
      | 'replies-collected'
      | 'proxy-started'
      | 'proxy-stopped'
      | 'proxy-configured'
      | 'session-limit';
  }
>;
/** Never written: another event's line says it (see `add`). */
type UnloggedEvent = Extract<WorkbenchEvent, { kind: 'proxy-received' | 'burst-finished' }>;
/** What a flood is made of (datagrams, drops, errors, and any kind of event added later): shown up to the budget, then counted. */
type SummarisedEvent = Exclude<WorkbenchEvent, AlwaysShownEvent | UnloggedEvent>;

function isSummarised(event: Exclude<WorkbenchEvent, UnloggedEvent>): event is SummarisedEvent {
  switch (event.kind) {
    case 'received':
    case 'replied':
    case 'dropped':
      return true;
    case 'server-started':
    case 'server-stopped':
    case 'server-configured':
    case 'kernel-dropped':
    case 'kernel-drops-unavailable':
    case 'sent':
    case 'reply':
    case 'timeout':
    case 'replies-collected':
    case 'proxy-started':
    case 'proxy-stopped':
    case 'proxy-configured':
    case 'session-limit':
      return false;
    default:
      return true;
  }
}

/** Same summary key as `a`, without building one. */
function sameSource(a: SummarisedEvent, b: SummarisedEvent): boolean {
  switch (a.kind) {
    case 'received':
    case 'replied':
    case 'dropped':
      return (
        b.kind === a.kind &&
        a.serverId === b.serverId &&
        a.peer.port === b.peer.port &&
        a.peer.address === b.peer.address &&
        (a.kind !== 'dropped' || (b.kind === 'dropped' && a.reason === b.reason))
      );
    case 'server-error':
      return b.kind === 'server-error' && a.serverId === b.serverId && a.error.code === b.error.code;
    case 'send-failed':
      return (
        b.kind === 'send-failed' &&
        a.target.port === b.target.port &&
        a.target.address === b.target.address &&
        a.error.code === b.error.code
      );
    case 'proxy-error':
      return b.kind === 'proxy-error' && a.proxyId === b.proxyId && a.error.code === b.error.code;
    case 'session-opened':
    case 'session-closed':
      return b.kind === a.kind && a.proxyId === b.proxyId;
    case 'burst-sent':
    case 'burst-reply':
      return b.kind === a.kind && a.requestId === b.requestId;
    case 'forwarded':
    case 'proxy-dropped':
      return (
        b.kind === a.kind &&
        a.proxyId === b.proxyId &&
        a.direction === b.direction &&
        a.peer.port === b.peer.port &&
        a.peer.address === b.peer.address &&
        (a.kind !== 'proxy-dropped' || (b.kind === 'proxy-dropped' && a.reason === b.reason))
      );
  }
}

/** Datagrams are summarised per server, peer and reason; errors per server (or target) and error code. */
function summaryKey(event: SummarisedEvent, others: boolean): string {
  switch (event.kind) {
    case 'server-error':
      return `${event.kind}|${event.serverId}|${others ? 'others|' : ''}${event.error.code}`;
    case 'send-failed':
      return `${event.kind}|${others ? 'others' : formatEndpoint(event.target)}|${event.error.code}`;
    case 'proxy-error':
      return `${event.kind}|${event.proxyId}|${others ? 'others|' : ''}${event.error.code}`;
    case 'session-opened':
    case 'session-closed':
      return `${event.kind}|${event.proxyId}`;
    case 'burst-sent':
    case 'burst-reply':
      return `${event.kind}|${event.requestId}`;
    case 'forwarded':
    case 'proxy-dropped': {
      const reason = event.kind === 'proxy-dropped' ? event.reason : '';
      return `${event.kind}|${event.proxyId}|${event.direction}|${others ? 'others' : `${event.peer.address}|${event.peer.port}`}|${reason}`;
    }
    default: {
      const reason = event.kind === 'dropped' ? event.reason : '';
      return `${event.kind}|${event.serverId}|${others ? 'others' : `${event.peer.address}|${event.peer.port}`}|${reason}`;
    }
  }
}

function summaryLine(event: SummarisedEvent, others: boolean, count: number): { level: 'info' | 'warn' | 'error'; text: string } {
  const peer = (endpoint: { address: string; port: number }): string => (others ? 'other peers' : formatEndpoint(endpoint));
  switch (event.kind) {
    case 'received':
      return { level: 'info', text: `${plural(count, 'more datagram')} received by ${event.serverId} from ${peer(event.peer)} not shown` };
    case 'replied':
      return { level: 'info', text: `${plural(count, 'more datagram')} replied by ${event.serverId} to ${peer(event.peer)} not shown` };
    case 'dropped':
      return {
        level: 'warn',
        text: `${plural(count, 'more datagram')} dropped by ${event.serverId} from ${peer(event.peer)} (${describeDropReason(event.reason)}) not shown`,
      };
    case 'server-error':
      return { level: 'error', text: `[${event.serverId}] ${plural(count, 'more error')} like this not shown: ${event.error.text}` };
    case 'send-failed':
      return {
        level: 'error',
        text: `${plural(count, 'more failed send')} to ${others ? 'other targets' : formatEndpoint(event.target)} like this not shown: ${event.error.text}`,
      };
    case 'proxy-error':
      return { level: 'error', text: `[${event.proxyId}] ${plural(count, 'more error')} like this not shown: ${event.error.text}` };
    case 'session-opened':
      return { level: 'info', text: `[${event.proxyId}] ${plural(count, 'more session')} opened not shown` };
    case 'session-closed':
      return { level: 'info', text: `[${event.proxyId}] ${plural(count, 'more session')} closed not shown` };
    case 'burst-sent':
      return {
        level: 'info',
        text: `burst to ${formatEndpoint(event.target)}: ${plural(count, 'datagram')} sent (counted, not shown one by one)`,
      };
    case 'burst-reply':
      return {
        level: 'info',
        text: `burst to ${formatEndpoint(event.target)}: ${formatCount(count)} ${count === 1 ? 'reply' : 'replies'} received (counted, not shown one by one)`,
      };
    case 'forwarded':
      return {
        level: 'info',
        text: `[${event.proxyId}] ${plural(count, 'more datagram')} ${describeDirection(event.direction)} forwarded for ${peer(event.peer)} not shown`,
      };
    case 'proxy-dropped':
      return {
        level: 'warn',
        text: `[${event.proxyId}] ${plural(count, 'more datagram')} ${describeDirection(event.direction)} dropped for ${peer(event.peer)} (${describeProxyDropReason(event.reason)}) not shown`,
      };
  }
}

function lineCount(text: string): number {
  let lines = 1;
  for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  return lines;
}
