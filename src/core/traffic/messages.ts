// The messages between the traffic view's host side (src/vscode/trafficView.ts) and its webview (src/webview/main.ts).
// Both import this file; it imports only types from a module that imports nothing, so it holds for a browser frame
// and for Node alike.
import type { TrafficDirection, TrafficFate } from '../capture/datagramFate';

/** One line of the packet list, made safe to show on the host side (text escaped, never HTML). */
export interface TrafficRow {
  /** The datagram's number since the last clear; stays its own as older ones go. */
  readonly n: number;
  /** The datagram's identity: never given to another, across clears too (`n` restarts from 0 after one). */
  readonly id: number;
  /** Local time of day, to the millisecond. */
  readonly time: string;
  readonly direction: TrafficDirection;
  readonly local: string;
  readonly peer: string;
  readonly size: number;
  readonly fate: TrafficFate;
  /** What the workbench did with it, in words ("dropped by simulation…", "delayed 48 ms"); may be empty. */
  readonly note: string;
  readonly preview: string;
}

/** One point a second, oldest first; uPlot's column layout. RTT is null in a second without a reply. */
export interface TrafficCharts {
  /** Unix time, seconds. */
  readonly seconds: number[];
  readonly in: number[];
  readonly out: number[];
  /** Dropped by the simulation (and the rate limit). */
  readonly simulatedLoss: number[];
  /** Sends that got no reply in time. */
  readonly timeouts: number[];
  readonly rttP50: Array<number | null>;
  readonly rttP99: Array<number | null>;
}

export interface TrafficTotals {
  readonly in: number;
  readonly out: number;
  /** Held in the buffer now. */
  readonly kept: number;
  /** Let go to make room in the buffer (udpWorkbench.capture.bufferSize). */
  readonly notKept: number;
  readonly capacity: number;
}

export type HostMessage =
  | {
      readonly type: 'update';
      readonly totals: TrafficTotals;
      /** Rows that match the filter, of those kept. */
      readonly matched: number;
      /** Index (among the matched) of rows[0]. */
      readonly first: number;
      readonly rows: readonly TrafficRow[];
      readonly charts: TrafficCharts;
      readonly paused: boolean;
      readonly follow: boolean;
      /** The filter in force: a view made again (the panel was hidden) shows it in its box. */
      readonly filter: string;
      /** Why the filter text was not understood, if it was not. */
      readonly filterError: string | undefined;
    }
  | {
      readonly type: 'detail';
      readonly row: TrafficRow;
      /** Offsets, hex and ASCII, 16 bytes a line. */
      readonly hexDump: readonly string[];
      /** The request and replies of the same exchange, this row among them. */
      readonly exchange: readonly TrafficRow[];
    }
  | { readonly type: 'detail-gone'; readonly n: number };

export type ViewMessage =
  | { readonly type: 'ready' }
  /**
   * The rows the list can show now, by index among the matched, and the number (`n`) of the datagram at `first` when
   * the view knows it: with Follow off the list stays on that datagram as the buffer lets older ones go.
   */
  | { readonly type: 'window'; readonly first: number; readonly count: number; readonly anchor?: number }
  | { readonly type: 'filter'; readonly text: string }
  | { readonly type: 'select'; readonly n: number }
  | { readonly type: 'pause'; readonly paused: boolean }
  | { readonly type: 'follow'; readonly follow: boolean }
  | { readonly type: 'clear' };
