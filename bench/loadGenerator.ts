import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { percentile } from './report';

export interface LoadOptions {
  readonly port: number;
  /** Bytes per datagram, at least 4 (the sequence number). */
  readonly size: number;
  /** Datagrams awaiting a reply at once: 1 is ping-pong. */
  readonly window: number;
  readonly count: number;
  /** The phase ends here even if datagrams are still missing; they count as lost. */
  readonly deadlineMs: number;
  /**
   * A datagram unanswered this long is given up on and replaced (its reply, if it comes later, still counts).
   * Long enough that a server stalled by a busy machine is not sent a second window on top of the first.
   */
  readonly lossTimeoutMs?: number;
  /** Called once, when half the datagrams have been answered. */
  readonly onHalfway?: () => void;
}

export interface LoadResult {
  readonly sent: number;
  /** Distinct datagrams answered, late ones included. */
  readonly answered: number;
  /** Never answered before the phase ended. */
  readonly lost: number;
  readonly lossPercent: number;
  /** Answered after being given up on. */
  readonly late: number;
  /** Replies to a datagram already answered, or that match no datagram sent. */
  readonly unexpected: number;
  readonly timedOut: boolean;
  /** First send to last reply. */
  readonly durationMs: number;
  readonly roundTripsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU time of this process over the phase, as a percentage of one core. */
  readonly cpuPercent: number;
}

/** Per sequence number: 0 not sent yet, then one of these. */
const IN_FLIGHT = 1;
const ANSWERED = 2;
const GIVEN_UP = 3;
/** Like QUIC's packet threshold: a datagram is lost once three sent after it have been answered. */
const REORDER_THRESHOLD = 3;
/** Send buffers are reused round-robin; this many sends back is long finished with its buffer. */
const BUFFER_RING = 1024;

/**
 * Keeps `window` datagrams in flight to an echo server on 127.0.0.1 over one connected socket and times each
 * round trip. Each datagram carries its sequence number, so replies are matched exactly. Bounded by `count`
 * and by `deadlineMs`. Everything per datagram lives in preallocated typed arrays, to keep this side cheap
 * next to the server it measures.
 */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const { port, size, window, count, deadlineMs, lossTimeoutMs = 1000 } = options;
  if (size < 4) throw new RangeError('size must be at least 4 bytes');
  const state = new Uint8Array(count);
  const sentAt = new Float64Array(count);
  const rtts = new Float64Array(count);
  const buffers = Array.from({ length: Math.min(BUFFER_RING, count) }, () => Buffer.alloc(size, 0x61));
  const socket = dgram.createSocket('udp4');

  let next = 0;
  let inFlight = 0;
  let answered = 0;
  let late = 0;
  let unexpected = 0;
  let oldest = 0;
  let firstSendAt = 0;
  let lastReplyAt = 0;
  let halfwayCalled = options.onHalfway === undefined;
  let finished = false;
  let cpuAtStart = process.cpuUsage();

  return new Promise<LoadResult>((resolve, reject) => {
    const sendOne = (): void => {
      const seq = next++;
      const buffer = buffers[seq % buffers.length];
      buffer.writeUInt32LE(seq, 0);
      state[seq] = IN_FLIGHT;
      inFlight++;
      sentAt[seq] = performance.now();
      socket.send(buffer);
    };
    const fill = (): void => {
      if (finished) return;
      while (inFlight < window && next < count) sendOne();
      if (next === count && inFlight === 0) finish(false);
    };
    const giveUpTo = (limit: number, olderThan: number): void => {
      while (oldest < next) {
        const s = state[oldest];
        if (s === IN_FLIGHT) {
          if (oldest > limit && sentAt[oldest] > olderThan) break;
          state[oldest] = GIVEN_UP;
          inFlight--;
        }
        oldest++;
      }
    };

    socket.on('message', (reply) => {
      const now = performance.now();
      const seq = reply.length === size ? reply.readUInt32LE(0) : -1;
      if (seq < 0 || seq >= next || state[seq] === ANSWERED) {
        unexpected++;
        return;
      }
      if (state[seq] === IN_FLIGHT) inFlight--;
      else late++;
      state[seq] = ANSWERED;
      rtts[answered++] = now - sentAt[seq];
      lastReplyAt = now;
      if (!halfwayCalled && answered * 2 >= count) {
        halfwayCalled = true;
        options.onHalfway!();
      }
      if (window > 1) giveUpTo(seq - REORDER_THRESHOLD, -Infinity);
      fill();
    });
    socket.on('error', (error) => {
      finish(false);
      reject(error);
    });

    const sweep = setInterval(
      () => {
        giveUpTo(-1, performance.now() - lossTimeoutMs);
        fill();
      },
      Math.min(20, lossTimeoutMs),
    );
    const deadline = setTimeout(() => finish(true), deadlineMs);

    function finish(timedOut: boolean): void {
      if (finished) return;
      finished = true;
      clearInterval(sweep);
      clearTimeout(deadline);
      const cpu = process.cpuUsage(cpuAtStart);
      // Late replies could still arrive for given-up datagrams; a short grace lets them count.
      const grace = answered < next && !timedOut ? 50 : 0;
      setTimeout(() => {
        socket.removeAllListeners('message');
        socket.close();
        const durationMs = (lastReplyAt || performance.now()) - firstSendAt;
        const sorted = rtts.subarray(0, answered).sort();
        const lost = next - answered;
        resolve({
          sent: next,
          answered,
          lost,
          lossPercent: next === 0 ? NaN : (lost / next) * 100,
          late,
          unexpected,
          timedOut,
          durationMs,
          roundTripsPerSecond: answered / (durationMs / 1000),
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          cpuPercent: ((cpu.user + cpu.system) / 1000 / durationMs) * 100,
        });
      }, grace);
    }

    socket.connect(port, '127.0.0.1', () => {
      cpuAtStart = process.cpuUsage();
      firstSendAt = performance.now();
      fill();
    });
  });
}
