import { randomInt } from 'node:crypto';
import * as dgram from 'node:dgram';
import { formatEndpoint, resolveHost, type Endpoint } from './endpoint';
import { badSetting, tooManyOpenFiles, WorkbenchError } from './errors';
import type { EventSink, Peer } from './events';
import { checkDatagramSize } from './payload';
import { formatCount, RoundTripStats, type RoundTripSummary } from './stats';

export interface SendOptions {
  target: Endpoint;
  payload: Buffer;
  /** Wait for the first reply, in ms; each retry waits `backoff` times longer than the one before. */
  timeoutMs: number;
  retries: number;
  backoff: number;
  /** Default true; false sends once and resolves with outcome 'sent'. */
  expectReply?: boolean;
  emit?: EventSink;
  signal?: AbortSignal;
}

export interface SendResult {
  requestId: number;
  target: Peer;
  local: Peer;
  attempts: number;
  outcome: 'reply' | 'timeout' | 'sent';
  reply?: Buffer;
  from?: Peer;
  rttMs?: number;
}

/** A burst emits no events per datagram (a flood would swamp the log); the caller reports its result. */
export interface BurstOptions extends Omit<SendOptions, 'payload' | 'retries' | 'backoff' | 'expectReply' | 'emit'> {
  /**
   * The bytes every datagram carries, or what makes datagram `index` (0-based) just before it is sent: called
   * once per datagram, in order. What it throws stops the burst; a WorkbenchError is rejected with the
   * datagram's number added to its message, anything else as it is.
   */
  payload: Buffer | ((index: number) => Buffer);
  /** How many datagrams, 1 to 1,000,000. `timeoutMs` is how long each one waits for its reply. */
  count: number;
  /** Datagrams per second, from 0.001 to 1,000,000; undefined sends as fast as the window allows. */
  ratePerSecond?: number;
  /** Most datagrams awaiting a reply at once: default 64 without a rate, unlimited with one. */
  window?: number;
}

export interface BurstResult {
  sent: number;
  /** Datagrams answered before the burst ended. */
  received: number;
  lost: number;
  lossPercent: number;
  /** Extra replies to a datagram already answered. */
  duplicates: number;
  /** Datagrams answered after a later one was. */
  reordered: number;
  /** Replies without this burst's tag: the server does not send the bytes back as they came. */
  unmatched: number;
  /** Round trips of the datagrams answered, each timed from its own send. */
  stats: RoundTripSummary;
  /** From the first send to the last send or reply, whichever came later. */
  durationMs: number;
}

const MAX_BURST_COUNT = 1_000_000;
const MAX_BURST_RATE = 1_000_000;
const DEFAULT_BURST_WINDOW = 64;
const TAG_BYTES = 8;
/** Node turns longer timer delays into 1 ms; a long backoff waits this long instead. */
const MAX_TIMER_MS = 2_147_483_647;

let lastRequestId = 0;

/**
 * Sends one datagram from a fresh socket connected to the target (so a 'port unreachable' answer surfaces
 * as CONNECTION_REFUSED), and waits for the reply, sending again after each timeout up to `retries` times.
 */
export async function sendDatagram(options: SendOptions): Promise<SendResult> {
  const { payload, timeoutMs, retries, backoff, emit } = options;
  checkRange('timeoutMs', timeoutMs, 1, 600_000);
  checkRange('retries', retries, 0, 20, true);
  checkRange('backoff', backoff, 1, 10);
  const target = await resolveTarget(options.target, options.signal);
  const requestId = ++lastRequestId;
  const expectReply = options.expectReply ?? true;
  try {
    checkDatagramSize(payload.length, familyNumber(target));
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
        const waitMs = Math.min(timeoutMs * backoff ** (attempt - 1), MAX_TIMER_MS);
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
      return () => clearTimeout(timer);
    });
  } catch (err) {
    const error = toWorkbenchError(err, options.target.host, target);
    emit?.({ kind: 'send-failed', at: Date.now(), requestId, target, error });
    throw error;
  }
}

/**
 * Sends `count` datagrams on one connected socket, then waits `timeoutMs` after the last send for stragglers.
 * Each datagram is the payload followed by an 8-byte tag (burst id, sequence number; both uint32 big-endian),
 * so a reply that mirrors it is matched to its own send even after a loss: identical bytes could only be
 * matched by order, and one lost datagram would then skew every later round trip. The size limit counts the tag,
 * and applies to each datagram a payload function makes.
 */
export async function sendBurst(options: BurstOptions): Promise<BurstResult> {
  const { payload, timeoutMs, count, ratePerSecond } = options;
  checkRange('timeoutMs', timeoutMs, 1, 600_000);
  checkRange('count', count, 1, MAX_BURST_COUNT, true);
  if (ratePerSecond !== undefined) checkRange('ratePerSecond', ratePerSecond, 0.001, MAX_BURST_RATE);
  const window = options.window ?? (ratePerSecond === undefined ? DEFAULT_BURST_WINDOW : Infinity);
  if (options.window !== undefined) checkRange('window', window, 1, MAX_BURST_COUNT, true);
  const target = await resolveTarget(options.target, options.signal);
  const family = familyNumber(target);
  /** What the payload function threw: not a socket's error, so not translated as one. */
  let payloadFailure: { error: unknown } | undefined;
  try {
    if (typeof payload !== 'function') checkDatagramSize(payload.length + TAG_BYTES, family);
    return await talkTo<BurstResult>(target, options.signal, (socket, talk) => {
      const burstId = randomInt(2 ** 32);
      const gapMs = ratePerSecond === undefined ? 0 : 1000 / ratePerSecond;
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
      let latestAnswered = -1;
      let lastReplyMs = 0;
      let timer: NodeJS.Timeout | undefined;

      const pump = (): void => {
        clearTimeout(timer);
        const now = elapsedMs();
        while (oldestWaiting < tally.sent && (answered[oldestWaiting] || sentAtMs[oldestWaiting] <= now - timeoutMs)) {
          if (!answered[oldestWaiting]) waiting--;
          oldestWaiting++;
        }
        while (tally.sent < count && waiting < window && tally.sent * gapMs <= now) {
          const seq = tally.sent;
          let bytes = payload;
          if (typeof bytes === 'function') {
            try {
              bytes = bytes(seq);
              checkDatagramSize(bytes.length + TAG_BYTES, family);
            } catch (err) {
              payloadFailure = { error: burstStopped(err, seq, count) };
              return talk.reject(payloadFailure.error);
            }
          }
          tally.sent++;
          sentAtMs[seq] = elapsedMs();
          waiting++;
          socket.send([bytes, burstTag(burstId, seq)], (err) => err && talk.reject(err));
        }
        const lastSendMs = sentAtMs[tally.sent - 1];
        if (tally.sent === count && now >= lastSendMs + timeoutMs) {
          const lost = count - tally.received;
          const durationMs = Math.max(lastSendMs, lastReplyMs);
          return talk.resolve({ ...tally, lost, lossPercent: (lost / count) * 100, stats: stats.summary(), durationMs });
        }
        const wakeAtMs =
          tally.sent === count ? lastSendMs + timeoutMs : waiting < window ? tally.sent * gapMs : sentAtMs[oldestWaiting] + timeoutMs;
        timer = setTimeout(pump, wakeAtMs - now);
      };

      socket.on('message', (reply) => {
        lastReplyMs = elapsedMs();
        const seq = burstSeqOf(reply, burstId);
        if (seq === undefined || seq >= tally.sent) {
          tally.unmatched++;
        } else if (answered[seq]) {
          tally.duplicates++;
        } else {
          answered[seq] = 1;
          tally.received++;
          stats.add(lastReplyMs - sentAtMs[seq]);
          if (seq < latestAnswered) tally.reordered++;
          latestAnswered = Math.max(latestAnswered, seq);
          if (seq >= oldestWaiting) waiting--;
          if (tally.sent < count) pump();
        }
      });
      pump();
      return () => clearTimeout(timer);
    });
  } catch (err) {
    throw payloadFailure !== undefined && err === payloadFailure.error ? err : toWorkbenchError(err, options.target.host, target);
  }
}

/** The error that making datagram `index` raised, saying which datagram it was and how many went out before it. */
function burstStopped(err: unknown, index: number, count: number): unknown {
  if (!(err instanceof WorkbenchError)) return err;
  const where = `Burst stopped at datagram ${formatCount(index + 1)} of ${formatCount(count)}, ${formatCount(index)} sent`;
  return new WorkbenchError(err.code, `${where}: ${err.message}`, err.hint, { ...err.options, cause: err });
}

function burstTag(burstId: number, seq: number): Buffer {
  const tag = Buffer.allocUnsafe(TAG_BYTES);
  tag.writeUInt32BE(burstId, 0);
  tag.writeUInt32BE(seq, 4);
  return tag;
}

/** The sequence number in a reply that ends with this burst's tag. */
function burstSeqOf(reply: Buffer, burstId: number): number | undefined {
  if (reply.length < TAG_BYTES || reply.readUInt32BE(reply.length - TAG_BYTES) !== burstId) return undefined;
  return reply.readUInt32BE(reply.length - 4);
}

interface Talk<T> {
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/**
 * Connects a fresh socket to `target` and hands it to `start`, which returns what to clear when done.
 * Settles once, on the first of: `talk`, a socket error, or cancellation; always closes the socket first.
 */
function talkTo<T>(
  target: Peer,
  signal: AbortSignal | undefined,
  start: (socket: dgram.Socket, talk: Talk<T>) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const socket = dgram.createSocket(target.family === 'IPv4' ? 'udp4' : 'udp6');
    let stop: (() => void) | undefined;
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      stop?.();
      signal?.removeEventListener('abort', onAbort);
      socket.close(finish);
    };
    const talk: Talk<T> = {
      resolve: (value) => settle(() => resolve(value)),
      reject: (reason) => settle(() => reject(reason)),
    };
    const onAbort = (): void => talk.reject(cancelled(formatEndpoint(target)));

    socket.on('error', talk.reject);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.connect(target.port, target.address, (err?: Error) => {
      if (err) return talk.reject(err);
      if (settled) return;
      stop = start(socket, talk);
      if (settled) stop();
    });
  });
}

async function resolveTarget(endpoint: Endpoint, signal: AbortSignal | undefined): Promise<Peer> {
  const whereTyped = formatEndpoint(endpoint);
  if (signal?.aborted) throw cancelled(whereTyped);
  const { address, family } = await resolveHost(endpoint.host, endpoint.family);
  if (signal?.aborted) throw cancelled(whereTyped);
  return { address, port: endpoint.port, family: family === 4 ? 'IPv4' : 'IPv6' };
}

function toWorkbenchError(err: unknown, host: string, target: Peer): WorkbenchError {
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
        'Broadcast addresses need broadcast enabled, and a firewall may block the address; send to a single host instead.',
        cause,
      );
    case 'EMSGSIZE':
      return new WorkbenchError(
        'DATAGRAM_TOO_LARGE',
        `The datagram is too large to send to ${where}.`,
        'Send fewer bytes.',
        cause,
      );
    case 'EMFILE':
    case 'ENFILE':
      return tooManyOpenFiles(`Could not open a socket to send to ${where}`, err);
    default:
      return new WorkbenchError('SOCKET_ERROR', `Sending to ${where} failed: ${errorMessage(err)}.`, '', cause);
  }
}

function cancelled(where: string): WorkbenchError {
  return new WorkbenchError('CANCELLED', `Sending to ${where} was cancelled.`, '');
}

function checkRange(name: string, value: number, min: number, max: number, whole = false): void {
  if (value >= min && value <= max && (!whole || Number.isInteger(value))) return;
  throw badSetting(name, value, `${whole ? 'a whole number' : 'a number'} from ${formatCount(min)} to ${formatCount(max)}`, 'Correct it in the settings.', 'open-settings');
}

function isLocalhostName(host: string): boolean {
  return /^localhost\.?$/i.test(host);
}

function familyNumber(peer: Peer): 4 | 6 {
  return peer.family === 'IPv4' ? 4 : 6;
}

function peerOf(address: { address: string; port: number; family: string }): Peer {
  return { address: address.address, port: address.port, family: address.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
