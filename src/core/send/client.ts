import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import { formatEndpoint, resolveHost, type Endpoint } from '../endpoint';
import { badSetting, messageOf, tooManyOpenFiles, WorkbenchError } from '../errors';
import { familyNumber, peerOf, type Peer } from '../events';
import { groupKind } from '../net/groupAddress';
import { sendToGroup } from './groupSend';
import { BURST_LIMITS, SEND_LIMITS } from '../limits';
import { checkDatagramSize } from '../payload';
import { formatCount, RoundTripStats, type RoundTripSummary } from '../stats';
import { attemptWaitMs } from '../timing';
import type { SendOptions, SendResult } from './sendRequest';

/** A burst emits `burst-sent` and `burst-reply` per datagram, for the traffic view and the capture; the log only counts them, and the caller reports its result. */
export interface BurstOptions extends Omit<SendOptions, 'payload' | 'retries' | 'backoff' | 'expectReply'> {
  /**
   * The bytes every datagram carries, or what makes datagram `index` (0-based) just before it is sent: called
   * once per datagram, in order. What it throws stops the burst; a WorkbenchError is rejected with the
   * datagram's number added to its message, anything else as it is.
   */
  payload: Buffer | ((index: number) => Buffer);
  /** How many datagrams, within BURST_LIMITS. `timeoutMs` is how long each one waits for its reply. */
  count: number;
  /** Datagrams per second, within BURST_LIMITS; undefined sends as fast as the window allows. */
  ratePerSecond?: number;
  /** Most datagrams awaiting a reply at once: default 64 without a rate, 256 with one. */
  window?: number;
  /**
   * Default true: each datagram ends in an 8-byte tag that matches its reply to it. False sends the payload as it
   * is and takes each reply for the oldest datagram still waiting (by order), so losses and reordering blur the
   * round trips, and duplicates and reordering are not told apart.
   */
  tag?: boolean;
  /** Told how far the burst has got, a few times a second while it runs. */
  onProgress?: (progress: BurstProgress) => void;
}

export interface BurstProgress {
  readonly sent: number;
  readonly received: number;
}

export interface BurstResult {
  /** How many datagrams were asked for. */
  count: number;
  sent: number;
  /** Datagrams answered before the burst ended. */
  received: number;
  /** Sent and not answered. */
  lost: number;
  /** Of those sent. */
  lossPercent: number;
  /** Extra replies to a datagram already answered (always 0 without the tag). */
  duplicates: number;
  /** Datagrams answered after a later one was (always 0 without the tag). */
  reordered: number;
  /** Replies without this burst's tag (the server does not send the bytes back as they came), or beyond the sends. */
  unmatched: number;
  /** Round trips of the datagrams answered, each timed from its own send. */
  stats: RoundTripSummary;
  /** From the first send to the last send or reply, whichever came later. */
  durationMs: number;
  /** The rate asked for, if any. */
  askedRate?: number;
  /** Datagrams per second from the first send to the last; undefined with fewer than two sent. */
  achievedRate?: number;
  /** False when the sends fell more than 5 % behind the asked rate: this machine or the window could not keep it. */
  keptRate: boolean;
  /** Whether each datagram carried the 8-byte tag. */
  tagged: boolean;
  /** Stopped by its signal: the counts are what went out and came back until then. */
  cancelled: boolean;
}

/** How many bytes the tag adds to each datagram of a burst. */
export const BURST_TAG_BYTES = 8;
const DEFAULT_BURST_WINDOW = 64;
/** More in flight overflows the receive buffer of an echo server in the same process (about 270 small datagrams) and gains no speed. */
const DEFAULT_RATED_BURST_WINDOW = 256;
/** A burst sends for at most this long before it lets the event loop run (replies, timers, the editor). */
const BURST_SLICE_MS = 4;
/** The most a paced burst that fell behind sends at once to catch up, in ms of its rate. */
const MAX_BACKLOG_MS = 50;
/** Sends the socket has not finished yet: beyond this the burst waits, rather than queue datagrams in memory. */
const MAX_QUEUED_SENDS = 64;
/** How often onProgress hears of a running burst. */
const BURST_PROGRESS_MS = 250;
/** An achieved rate this far below the asked one is reported as not kept. */
const RATE_TOLERANCE = 0.95;

let lastRequestId = 0;

/**
 * Sends one datagram from a fresh socket connected to the target (so a 'port unreachable' answer surfaces
 * as CONNECTION_REFUSED), and waits for the reply, sending again after each timeout up to `retries` times.
 */
export async function sendDatagram(options: SendOptions): Promise<SendResult> {
  const { payload, timeoutMs, retries, backoff, emit } = options;
  checkRange('timeoutMs', timeoutMs, SEND_LIMITS.minTimeoutMs, SEND_LIMITS.maxTimeoutMs);
  checkRange('retries', retries, SEND_LIMITS.minRetries, SEND_LIMITS.maxRetries, true);
  checkRange('backoff', backoff, SEND_LIMITS.minBackoff, SEND_LIMITS.maxBackoff);
  const target = await resolveTarget(options.target, options.signal);
  const requestId = ++lastRequestId;
  const expectReply = options.expectReply ?? true;
  try {
    checkDatagramSize(payload.length, familyNumber(target));
    const kind = groupKind(target.address);
    if (kind !== undefined) return await sendToGroup(options, target, kind, requestId);
    return await talkTo<SendResult>(target, options.signal, (socket, talk) => {
      const local = peerOf(socket.address());
      let attempt = 0;
      let sentAt = 0n;
      let timer: NodeJS.Timeout | undefined;

      const sendAttempt = (): void => {
        attempt++;
        // A reply cannot be told from a late reply to an earlier attempt (same bytes), so the round trip is
        // timed from the latest send, as the Python tutorial does; a late reply can look faster than it was.
        sentAt = process.hrtime.bigint();
        socket.send(payload, (err) => {
          if (err) talk.reject(err);
          else if (!expectReply) talk.resolve({ requestId, target, local, attempts: attempt, outcome: 'sent' });
        });
        emit?.({ kind: 'sent', at: Date.now(), requestId, target, payload, attempt, local });
        if (!expectReply) return;
        const waitMs = attemptWaitMs(timeoutMs, backoff, attempt);
        timer = setTimeout(() => {
          const willRetry = attempt <= retries;
          emit?.({ kind: 'timeout', at: Date.now(), requestId, target, attempt, timeoutMs: waitMs, willRetry });
          if (willRetry) sendAttempt();
          else talk.resolve({ requestId, target, local, attempts: attempt, outcome: 'timeout' });
        }, waitMs);
      };

      socket.on('message', (reply, rinfo) => {
        const rttMs = Number(process.hrtime.bigint() - sentAt) / 1e6;
        const from = peerOf(rinfo);
        emit?.({ kind: 'reply', at: Date.now(), requestId, target, payload: reply, attempt, rttMs, from });
        talk.resolve({ requestId, target, local, attempts: attempt, outcome: 'reply', reply, from, rttMs });
      });
      sendAttempt();
      return { stop: () => clearTimeout(timer) };
    });
  } catch (err) {
    const error = toWorkbenchError(err, options.target.host, target, options.group?.broadcast);
    emit?.({ kind: 'send-failed', at: Date.now(), requestId, target, error });
    throw error;
  }
}

/**
 * Sends `count` datagrams on one connected socket, then waits `timeoutMs` after the last send for stragglers.
 * Each datagram is the payload followed by an 8-byte tag (burst id, sequence number; both uint32 big-endian),
 * so a reply that mirrors it is matched to its own send even after a loss: identical bytes could only be
 * matched by order, and one lost datagram would then skew every later round trip. The size limit counts the tag,
 * and applies to each datagram a payload function makes. `tag: false` leaves it out and matches by order.
 *
 * The sends keep to the rate, and never more than `window` await a reply: the burst sends for a few
 * milliseconds at a time and then lets the event loop run, so replies are counted as they come and the
 * editor stays responsive; a machine that cannot keep the rate sends as fast as it can, and says so
 * (`achievedRate`, `keptRate`). Cancelled once it has started, it resolves with what it counted so far.
 */
export async function sendBurst(options: BurstOptions): Promise<BurstResult> {
  const { payload, timeoutMs, count, ratePerSecond, emit } = options;
  const tagged = options.tag ?? true;
  const tagBytes = tagged ? BURST_TAG_BYTES : 0;
  checkRange('timeoutMs', timeoutMs, SEND_LIMITS.minTimeoutMs, SEND_LIMITS.maxTimeoutMs);
  checkRange('count', count, BURST_LIMITS.minCount, BURST_LIMITS.maxCount, true);
  if (ratePerSecond !== undefined) checkRange('ratePerSecond', ratePerSecond, BURST_LIMITS.minRate, BURST_LIMITS.maxRate);
  const window = options.window ?? (ratePerSecond === undefined ? DEFAULT_BURST_WINDOW : DEFAULT_RATED_BURST_WINDOW);
  if (options.window !== undefined) checkRange('window', window, 1, BURST_LIMITS.maxCount, true);
  const target = await resolveTarget(options.target, options.signal);
  const family = familyNumber(target);
  /** What the payload function threw: not a socket's error, so not translated as one. */
  let payloadFailure: { error: unknown } | undefined;
  try {
    if (typeof payload !== 'function') checkDatagramSize(payload.length + tagBytes, family);
    return await talkTo<BurstResult>(target, options.signal, (socket, talk) => {
      const burstId = randomInt(2 ** 32);
      const requestId = ++lastRequestId;
      const local = peerOf(socket.address());
      const gapMs = ratePerSecond === undefined ? 0 : 1000 / ratePerSecond;
      /** Datagram `paceFrom.seq` is due at `paceFrom.ms`, each later one `gapMs` after the one before. */
      const paceFrom = { seq: 0, ms: 0 };
      const dueMs = (seq: number): number => paceFrom.ms + (seq - paceFrom.seq) * gapMs;
      const start = process.hrtime.bigint();
      const elapsedMs = (): number => Number(process.hrtime.bigint() - start) / 1e6;
      const sentAtMs = new Float64Array(count);
      const answered = new Uint8Array(count);
      const stats = new RoundTripStats();
      const tally = { sent: 0, received: 0, duplicates: 0, reordered: 0, unmatched: 0 };
      /** Sent, unanswered and still within `timeoutMs`: what the window limits. */
      let waiting = 0;
      /** Every datagram before this one is answered or past its wait. */
      let oldestWaiting = 0;
      /** Without the tag: the datagram the next reply is taken for. */
      let nextInOrder = 0;
      let latestAnswered = -1;
      let lastReplyMs = 0;
      /** Why the last pump stopped sending before it was due to: a full window or a full socket queue wakes it early. */
      let blocked: 'window' | 'queue' | undefined;
      let timer: NodeJS.Timeout | undefined;
      let immediate: NodeJS.Immediate | undefined;
      let progressAtMs = 0;

      const result = (cancelled: boolean): BurstResult => {
        const { sent, received } = tally;
        if (!cancelled) emit?.({ kind: 'burst-finished', at: Date.now(), requestId, target, sent, answered: received });
        const lastSendMs = sent > 0 ? sentAtMs[sent - 1] : 0;
        const spanMs = sent > 1 ? lastSendMs - sentAtMs[0] : 0;
        const achievedRate = spanMs > 0 ? ((sent - 1) * 1000) / spanMs : undefined;
        const keptRate = ratePerSecond === undefined || achievedRate === undefined || achievedRate >= ratePerSecond * RATE_TOLERANCE;
        const lost = sent - received;
        const durationMs = cancelled ? elapsedMs() : Math.max(lastSendMs, lastReplyMs);
        return {
          count,
          ...tally,
          lost,
          lossPercent: sent > 0 ? (lost / sent) * 100 : 0,
          stats: stats.summary(),
          durationMs,
          askedRate: ratePerSecond,
          achievedRate,
          keptRate,
          tagged,
          cancelled,
        };
      };

      /** Pumps again on the next turn of the event loop, after pending I/O and timers. */
      const soon = (): void => {
        if (immediate !== undefined) return;
        clearTimeout(timer);
        immediate = setImmediate(() => {
          immediate = undefined;
          pump();
        });
      };

      const send = (seq: number, bytes: Buffer): void => {
        tally.sent++;
        sentAtMs[seq] = elapsedMs();
        waiting++;
        const datagram = tagged ? withTag(bytes, burstId, seq) : bytes;
        socket.send(datagram, (err) => {
          if (err) talk.reject(err);
          else if (blocked === 'queue') soon();
        });
        emit?.({ kind: 'burst-sent', at: Date.now(), requestId, target, payload: datagram, seq, local });
      };

      const pump = (): void => {
        clearTimeout(timer);
        blocked = undefined;
        let now = elapsedMs();
        const sliceEndMs = now + BURST_SLICE_MS;
        if (options.onProgress && now - progressAtMs >= BURST_PROGRESS_MS) {
          progressAtMs = now;
          options.onProgress({ sent: tally.sent, received: tally.received });
        }
        while (oldestWaiting < tally.sent && (answered[oldestWaiting] || sentAtMs[oldestWaiting] <= now - timeoutMs)) {
          if (!answered[oldestWaiting]) waiting--;
          oldestWaiting++;
        }
        // Fallen behind (a busy machine, a full window), it sends what it owes as fast as it can, but never more
        // than MAX_BACKLOG_MS worth at once: the rest is given up, and shows in the achieved rate.
        if (now - dueMs(tally.sent) > MAX_BACKLOG_MS) {
          paceFrom.seq = tally.sent;
          paceFrom.ms = now - MAX_BACKLOG_MS;
        }
        while (tally.sent < count && dueMs(tally.sent) <= now) {
          if (waiting >= window) {
            blocked = 'window';
            break;
          }
          if (socket.getSendQueueCount() >= MAX_QUEUED_SENDS) {
            blocked = 'queue';
            return;
          }
          const seq = tally.sent;
          let bytes = payload;
          if (typeof bytes === 'function') {
            try {
              bytes = bytes(seq);
              checkDatagramSize(bytes.length + tagBytes, family);
            } catch (err) {
              payloadFailure = { error: burstStopped(err, seq, count) };
              return talk.reject(payloadFailure.error);
            }
          }
          send(seq, bytes);
          now = elapsedMs();
          if (now >= sliceEndMs) return soon();
        }
        const lastSendMs = sentAtMs[tally.sent - 1];
        if (tally.sent === count && now >= lastSendMs + timeoutMs) return talk.resolve(result(false));
        const wakeAtMs =
          tally.sent === count ? lastSendMs + timeoutMs : blocked === 'window' ? sentAtMs[oldestWaiting] + timeoutMs : dueMs(tally.sent);
        timer = setTimeout(pump, Math.max(0, wakeAtMs - now));
      };

      const answer = (seq: number): number => {
        answered[seq] = 1;
        tally.received++;
        stats.add(lastReplyMs - sentAtMs[seq]);
        if (seq < latestAnswered) tally.reordered++;
        latestAnswered = Math.max(latestAnswered, seq);
        if (seq >= oldestWaiting) waiting--;
        if (blocked === 'window') soon();
        return seq;
      };

      /** Which datagram a reply answers, counted as the result counts it; `duplicate` says whether it was answered before. */
      let duplicate = false;
      const match = (reply: Buffer): number | undefined => {
        duplicate = false;
        if (!tagged) {
          nextInOrder = Math.max(nextInOrder, oldestWaiting);
          if (nextInOrder < tally.sent) return answer(nextInOrder++);
          tally.unmatched++;
          return undefined;
        }
        const seq = burstSeqOf(reply, burstId);
        if (seq === undefined || seq >= tally.sent) {
          tally.unmatched++;
          return undefined;
        }
        if (!answered[seq]) return answer(seq);
        tally.duplicates++;
        duplicate = true;
        return seq;
      };

      socket.on('message', (reply, from) => {
        lastReplyMs = elapsedMs();
        const seq = match(reply);
        if (emit === undefined) return;
        const rttMs = seq === undefined || duplicate ? undefined : lastReplyMs - sentAtMs[seq];
        emit({ kind: 'burst-reply', at: Date.now(), requestId, target, payload: reply, from, local, seq, duplicate, rttMs });
      });
      pump();
      return {
        stop: () => {
          clearTimeout(timer);
          clearImmediate(immediate);
        },
        cancelled: () => result(true),
      };
    });
  } catch (err) {
    throw payloadFailure !== undefined && err === payloadFailure.error
      ? err
      : toWorkbenchError(err, options.target.host, target, options.group?.broadcast);
  }
}

/** The error that making datagram `index` raised, saying which datagram it was and how many went out before it. */
function burstStopped(err: unknown, index: number, count: number): unknown {
  if (!(err instanceof WorkbenchError)) return err;
  const where = `Burst stopped at datagram ${formatCount(index + 1)} of ${formatCount(count)}, ${formatCount(index)} sent`;
  return new WorkbenchError(err.code, `${where}: ${err.message}`, err.hint, { ...err.options, cause: err });
}

/** The datagram as it goes out: one buffer, so the traffic view and the capture see the very bytes sent. */
function withTag(bytes: Buffer, burstId: number, seq: number): Buffer {
  const datagram = Buffer.allocUnsafe(bytes.length + BURST_TAG_BYTES);
  bytes.copy(datagram);
  datagram.writeUInt32BE(burstId, bytes.length);
  datagram.writeUInt32BE(seq, bytes.length + 4);
  return datagram;
}

/** The sequence number in a reply that ends with this burst's tag. */
function burstSeqOf(reply: Buffer, burstId: number): number | undefined {
  if (reply.length < BURST_TAG_BYTES || reply.readUInt32BE(reply.length - BURST_TAG_BYTES) !== burstId) return undefined;
  return reply.readUInt32BE(reply.length - 4);
}

interface Talk<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** What a conversation leaves to clear when it ends, and what it resolves with if cancelled once started. */
interface Conversation<T> {
  stop(): void;
  /** Without it, cancelling rejects with CANCELLED. */
  cancelled?(): T;
}

/**
 * Connects a fresh socket to `target` and hands it to `start`.
 * Settles once, on the first of: `talk`, a socket error, or cancellation; always closes the socket first.
 */
function talkTo<T>(
  target: Peer,
  signal: AbortSignal | undefined,
  start: (socket: dgram.Socket, talk: Talk<T>) => Conversation<T>,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const socket = dgram.createSocket(target.family === 'IPv4' ? 'udp4' : 'udp6');
    let conversation: Conversation<T> | undefined;
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      conversation?.stop();
      signal?.removeEventListener('abort', onAbort);
      socket.close(finish);
    };
    const talk: Talk<T> = {
      resolve: (value) => settle(() => resolve(value)),
      reject: (reason) => settle(() => reject(reason)),
    };
    const onAbort = (): void => {
      if (conversation?.cancelled) talk.resolve(conversation.cancelled());
      else talk.reject(cancelled(formatEndpoint(target)));
    };

    socket.on('error', talk.reject);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.connect(target.port, target.address, (err?: Error) => {
      if (err) return talk.reject(err);
      if (settled) return;
      conversation = start(socket, talk);
      if (settled) conversation.stop();
    });
  });
}

async function resolveTarget(endpoint: Endpoint, signal: AbortSignal | undefined): Promise<Peer> {
  const whereTyped = formatEndpoint(endpoint);
  if (signal?.aborted) throw cancelled(whereTyped);
  const { address, family } = await resolveHost(endpoint.host, endpoint.family);
  if (signal?.aborted) throw cancelled(whereTyped);
  return peerOf({ address, port: endpoint.port, family });
}

/** `broadcastAllowed`: the send had broadcast on, so a refusal is never for want of it. */
function toWorkbenchError(err: unknown, host: string, target: Peer, broadcastAllowed = false): WorkbenchError {
  if (err instanceof WorkbenchError) return err;
  const where = formatEndpoint(target);
  const cause = { cause: err };
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ECONNREFUSED':
      if (target.family === 'IPv6' && isLocalhostName(host)) {
        return new WorkbenchError(
          'FAMILY_MISMATCH',
          `${host} resolved to ${target.address} (IPv6), and nothing listens there; a server on 127.0.0.1 does not hear IPv6.`,
          `Send to 127.0.0.1:${target.port} instead, or start the server on ${target.address}.`,
          { fix: 'use-ipv4', ...cause },
        );
      }
      return new WorkbenchError(
        'CONNECTION_REFUSED',
        `Nothing is listening on ${where} (the host answered 'port unreachable').`,
        'Start an echo server there (UDP: Start Echo Server) or check the port.',
        { fix: 'start-server', ...cause },
      );
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new WorkbenchError(
        'NETWORK_UNREACHABLE',
        `${where} cannot be reached: this machine has no route to it.`,
        'Check the address, and that this machine is connected to that network.',
        cause,
      );
    case 'EACCES':
      return new WorkbenchError(
        'PERMISSION_DENIED',
        `This machine does not allow sending to ${where}.`,
        broadcastAllowed
          ? 'Broadcast was allowed for this send: a firewall rule or the system policy blocks the address. Allow it there, or send to a single host instead.'
          : 'A broadcast address needs "@broadcast on" in the .udp block (or the Allow Broadcast setting, udpWorkbench.send.allowBroadcast), and a firewall may block the address; send to a single host instead.',
        cause,
      );
    case 'EMSGSIZE':
      return new WorkbenchError('DATAGRAM_TOO_LARGE', `The datagram is too large to send to ${where}.`, 'Send fewer bytes.', cause);
    case 'EMFILE':
    case 'ENFILE':
      return tooManyOpenFiles(`Could not open a socket to send to ${where}`, err);
    default:
      return new WorkbenchError('SOCKET_ERROR', `Sending to ${where} failed: ${messageOf(err)}.`, '', cause);
  }
}

function cancelled(where: string): WorkbenchError {
  return new WorkbenchError('CANCELLED', `Sending to ${where} was cancelled.`, '');
}

function checkRange(name: string, value: number, min: number, max: number, whole = false): void {
  if (value >= min && value <= max && (!whole || Number.isInteger(value))) return;
  throw badSetting(
    name,
    value,
    `${whole ? 'a whole number' : 'a number'} from ${formatCount(min)} to ${formatCount(max)}`,
    'Correct it in the settings.',
    'open-settings',
  );
}

function isLocalhostName(host: string): boolean {
  return /^localhost\.?$/i.test(host);
}
