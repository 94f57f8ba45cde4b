// The messages between the benchmark and a server process (serverProcess.ts), and what a server under test is.
import type { ServerCounters } from '../src/core/server/echoServer';
import type { DescribeOptions } from '../src/core/log/eventText';
import type { Stalls } from './stalls';
import type { ReplyMode, SimulationSettings } from '../src/core/configuration';

export type ServerKind = 'ours' | 'baseline';

export interface ServerConfig {
  readonly kind: ServerKind;
  readonly simulation?: SimulationSettings;
  /** Ours only: mirror unless given. */
  readonly replyMode?: ReplyMode;
  readonly template?: string;
  /** Ours only: the log settings; package.json's defaults unless given. */
  readonly log?: DescribeOptions;
  /** Ours only: the traffic view open and following during the run (its model fed, its updates made every 100 ms). */
  readonly trafficViewOpen?: boolean;
}

export interface ServerSample {
  /** user + system CPU time of the server process so far, µs. */
  readonly cpuMicros: number;
  readonly memory: NodeJS.MemoryUsage;
  /** Ours only. */
  readonly counters?: ServerCounters;
  /** Ours only: errors the server survived (a reply too large to send, …). */
  readonly serverErrors?: number;
  /** Lines as the Output panel shows them (a hex dump is several), and their UTF-8 bytes. */
  readonly log?: { flushes: number; notShown: number; lines: number; bytes: number };
  /**
   * Ours only: datagrams the capture recorder recorded, those its ring buffer holds now, the bytes it counts against
   * its budget (payloads and bookkeeping) and the memory it holds (columns and arena).
   */
  readonly capture?: { recorded: number; buffered: number; bytes: number; footprint: number };
  /** The largest event-loop stalls since the last sample that asked to reset them. */
  readonly stalls: Stalls;
}

export type ToServer = { type: 'sample'; id: number; gc: boolean; resetStalls?: boolean } | { type: 'stop' };
export type FromServer =
  { type: 'ready'; port: number } | { type: 'sample'; id: number; sample: ServerSample } | { type: 'failed'; message: string };
