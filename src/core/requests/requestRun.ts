import { BURST_TAG_BYTES, type BurstProgress, type BurstResult } from '../send/client';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../endpoint';
import { isWorkbenchError, messageOf, quoteInput, WorkbenchError } from '../errors';
import { escapeText } from '../escapeText';
import { describeReplies, peersAnswered } from '../log/eventText';
import { describeExpectation, judgeReply, type Expectation } from './expectation';
import { groupSendOptions, type GroupSendDefaults } from '../send/groupSend';
import { encodePayload, type PayloadEncoding } from '../payload';
import { errorsIn, type Problem, type RequestBlock, type RequestFile } from './requestFile';
import { renderRequestTemplate, scanTemplate } from './requestVariables';
import { formatCount, formatMs, plural, RoundTripStats, type RoundTripSummary } from '../stats';
import type { Workbench } from '../workbench/workbench';
import type { GroupReplies } from '../send/sendRequest';

/**
 * Sends one block of a `.udp` file and judges what came back: fills in its variables, encodes it, sends
 * it once (with retries) or as a burst, and checks its `@expect`. Nothing here throws for the user's
 * mistakes: a block that cannot be sent is a result that says why.
 */

/** What a block without its own headers uses: the send settings. */
export interface SendDefaults extends GroupSendDefaults {
  readonly target: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoff: number;
}

/** `measured`: a burst that lost some datagrams, which is what it is there to measure. `cancelled`: stopped by the user. */
export type BlockOutcome = 'passed' | 'failed' | 'timeout' | 'measured' | 'not-sent' | 'cancelled';

export interface BlockResult {
  readonly name: string;
  /** The block's first line (0-based). */
  readonly line: number;
  readonly outcome: BlockOutcome;
  /** One short line for beside the Send link: "✓ 41 B in 0.42 ms". */
  readonly summary: string;
  /** The whole story in a sentence, for the log and the tooltip. */
  readonly detail: string;
  readonly target?: string;
  readonly attempts?: number;
  readonly rttMs?: number;
  /** The reply as UTF-8 text, and its size in bytes. */
  readonly reply?: string;
  readonly replyBytes?: number;
  readonly burst?: BurstResult;
  /** Sent to a group or a broadcast address: every reply, in the order they came. */
  readonly replies?: readonly BlockReply[];
  /** Distinct sources that answered. */
  readonly peers?: number;
  /** Why it was not sent: the errors marked in the block, or what the network or the encoder said. */
  readonly problems?: readonly Problem[];
  readonly error?: unknown;
}

/** One of the replies to a send to a group. */
export interface BlockReply {
  /** `10.0.0.2:1900`. */
  readonly from: string;
  readonly rttMs: number;
  /** As UTF-8 text, and its size in bytes. */
  readonly reply: string;
  readonly bytes: number;
}

/**
 * Whether the block's datagrams went out: not when it was refused before sending (a mistake in it, a send not
 * confirmed) nor a burst cancelled before its first; a single send is cancelled while it waits for its reply. A send
 * that nothing listened to did go out: the system's 'port unreachable' answered it.
 */
export function wasSent(result: BlockResult): boolean {
  if (result.outcome === 'not-sent') {
    return isWorkbenchError(result.error) && (result.error.code === 'CONNECTION_REFUSED' || result.error.code === 'FAMILY_MISMATCH');
  }
  if (result.outcome === 'cancelled') return result.burst !== undefined ? result.burst.sent > 0 : result.target !== undefined;
  return true;
}

export type BlockSender = Pick<Workbench, 'send' | 'burst'>;

export interface SendControl {
  /** Cancels the send: a burst then reports what it counted so far. */
  readonly signal?: AbortSignal;
  /** How far a burst has got, a few times a second: "12,345 of 1,000,000 sent · 12,001 answered". */
  readonly report?: (message: string) => void;
}

/**
 * `seq` is the `{{$seq}}` of the block's datagram; datagram k (0-based) of a burst has `seq + k`, so a caller
 * that numbers every datagram it sends moves on by the burst's count.
 */
export async function sendRequestBlock(
  sender: BlockSender,
  file: RequestFile,
  block: RequestBlock,
  defaults: SendDefaults,
  seq: number,
  { signal, report }: SendControl = {},
): Promise<BlockResult> {
  const base = { name: block.name, line: block.range.start };
  const problems = errorsIn(file, block);
  if (problems.length > 0) {
    const [first] = problems;
    const count = problems.length === 1 ? 'a problem' : `${formatCount(problems.length)} problems`;
    return {
      ...base,
      outcome: 'not-sent',
      summary: `✗ ${count} to fix`,
      detail: `not sent: ${count} in the block, first on line ${first.line + 1}: ${first.message}`,
      problems,
    };
  }
  const encoding = block.encoding?.value ?? 'escaped';
  const { parts } = scanTemplate(block.payload, (name) => file.variables.has(name));
  const fillIn = (datagramSeq: number): string => renderRequestTemplate(parts, file.variables, { seq: datagramSeq });
  let target: Endpoint;
  let payload: Buffer;
  try {
    target = block.target?.value ?? parseEndpoint(defaults.target);
    payload = encodePayload(fillIn(seq), encoding);
  } catch (error) {
    return notSent(base, error);
  }
  const timeoutMs = block.timeoutMs?.value ?? defaults.timeoutMs;
  try {
    if (block.repeat) {
      const count = block.repeat.value;
      // Built-ins change per datagram: each datagram is filled in as it goes out, its {{$seq}} counting on from `seq`.
      const changes = parts.some((part) => part.kind !== 'text' && part.kind !== 'variable');
      const datagrams = changes ? (index: number) => encodeFilledIn(fillIn(seq + index), encoding) : payload;
      const onProgress =
        report &&
        (({ sent, received }: BurstProgress): void =>
          report(`${formatCount(sent)} of ${formatCount(count)} sent · ${formatCount(received)} answered`));
      const burst = await sender.burst({
        target,
        payload: datagrams,
        timeoutMs,
        count,
        ratePerSecond: block.ratePerSecond?.value,
        tag: block.tag?.value,
        signal,
        onProgress,
      });
      return { ...base, ...judgeBurst(burst), target: formatEndpoint(target), burst };
    }
    const expectation = block.expect?.value;
    // Waiting for silence once is the test; sending again would only wait longer for the same answer.
    const retries = expectation?.kind === 'none' ? 0 : (block.retries?.value ?? defaults.retries);
    const group = groupSendOptions(defaults, {
      ttl: block.ttl?.value,
      loopback: block.loopback?.value,
      interface: block.interface?.value,
      broadcast: block.broadcast?.value,
    });
    const sent = await sender.send({ target, payload, timeoutMs, retries, backoff: defaults.backoff, signal, group });
    if (sent.group && sent.group.replies.length > 0) {
      return { ...base, ...judgeGroupReplies(expectation, sent.group), target: formatEndpoint(sent.target), attempts: sent.attempts };
    }
    const judged = judgeReply(expectation, sent.reply);
    const outcome: BlockOutcome = judged.passed ? 'passed' : sent.reply === undefined ? 'timeout' : 'failed';
    return {
      ...base,
      outcome,
      summary: summarize(outcome, sent.reply, sent.rttMs, sent.attempts),
      detail: judged.detail,
      target: formatEndpoint(sent.target),
      attempts: sent.attempts,
      rttMs: sent.rttMs,
      reply: sent.reply?.toString('utf8'),
      replyBytes: sent.reply?.length,
    };
  } catch (error) {
    if (isWorkbenchError(error) && error.code === 'CANCELLED') {
      return {
        ...base,
        outcome: 'cancelled',
        summary: '⊘ cancelled',
        detail: 'cancelled before a reply came',
        target: formatEndpoint(target),
      };
    }
    return { ...notSent(base, error), target: formatEndpoint(target) };
  }
}

/**
 * A burst datagram's bytes. The encoder's message is about the filled-in text, which the editor does not show,
 * so it is quoted; sendBurst puts which datagram it was before it.
 */
function encodeFilledIn(text: string, encoding: PayloadEncoding): Buffer {
  try {
    return encodePayload(text, encoding);
  } catch (error) {
    if (!isWorkbenchError(error)) throw error;
    throw new WorkbenchError(error.code, `filled in, it reads ${quoteInput(text)}. ${error.message}`, error.hint, {
      ...error.options,
      cause: error,
    });
  }
}

/**
 * Every reply to a send to a group is judged: the block passes when each one does. The summary names how many peers
 * answered and their round trips; the detail lists them, as the log does.
 */
function judgeGroupReplies(
  expectation: Expectation | undefined,
  group: GroupReplies,
): Pick<BlockResult, 'outcome' | 'summary' | 'detail' | 'rttMs' | 'reply' | 'replyBytes' | 'replies' | 'peers'> {
  const { replies, peers, more, fromMorePeers } = group;
  const judged = replies.map(({ payload, from }) => ({ from, ...judgeReply(expectation, payload) }));
  const failed = judged.filter((result) => !result.passed);
  const outcome: BlockOutcome = failed.length === 0 ? 'passed' : 'failed';
  const shown = replies.slice(0, SUMMARY_ROUND_TRIPS).map(({ rttMs }) => formatMs(rttMs));
  const times = `${shown.join(', ')}${replies.length > shown.length ? ', …' : ''}`;
  const answered = `${peersAnswered(peers, fromMorePeers)} answered`;
  const verdict =
    failed.length === 0
      ? expectation === undefined
        ? `first ${judged[0].detail}`
        : `every reply ${describeExpectation(expectation)}`
      : `${formatCount(failed.length)} of ${formatCount(replies.length)} failed, first from ${formatEndpoint(failed[0].from)}: ${failed[0].detail}`;
  const listed = describeReplies(
    replies.map(({ from, rttMs, payload }) => ({ from, rttMs, size: payload.length })),
    more,
    fromMorePeers,
  );
  const [first] = replies;
  return {
    outcome,
    summary: `${outcome === 'passed' ? '✓' : '✗'} ${answered} · ${times}`,
    detail: `${answered}: ${listed}; ${verdict}`,
    rttMs: first.rttMs,
    reply: first.payload.toString('utf8'),
    replyBytes: first.payload.length,
    replies: replies.map(({ from, rttMs, payload }) => ({
      from: formatEndpoint(from),
      rttMs,
      reply: payload.toString('utf8'),
      bytes: payload.length,
    })),
    peers,
  };
}

/** Round trips a group's summary line names before "…". */
const SUMMARY_ROUND_TRIPS = 4;

function summarize(outcome: BlockOutcome, reply: Buffer | undefined, rttMs: number | undefined, attempts: number): string {
  if (outcome === 'timeout') return `✗ timed out after ${plural(attempts, 'try', 'tries')}`;
  if (outcome === 'failed') return '✗ expectation failed';
  if (reply === undefined) return '✓ no reply, as expected';
  return `✓ ${reply.length} B in ${formatMs(rttMs ?? 0)}`;
}

const BURST_MARKS: Readonly<Record<BlockOutcome, string>> = {
  passed: '✓',
  failed: '✗',
  timeout: '✗',
  measured: '⚠',
  'not-sent': '✗',
  cancelled: '⊘',
};

/**
 * A burst with no loss passes; one with some loss is a measurement; one with every reply lost timed out; one the
 * user stopped says how far it got. A rate it could not keep is said beside the loss.
 */
function judgeBurst(burst: BurstResult): Pick<BlockResult, 'outcome' | 'summary' | 'detail'> {
  const { count, sent, received, lost, lossPercent, duplicates, reordered, unmatched, stats, durationMs, cancelled } = burst;
  const loss = `${lossPercent.toFixed(1)}% lost`;
  const outcome: BlockOutcome = cancelled ? 'cancelled' : lost === 0 ? 'passed' : received === 0 ? 'timeout' : 'measured';
  const mark = BURST_MARKS[outcome];
  const times = stats.count > 0 ? `p50 ${formatMs(stats.p50 ?? 0)} · p99 ${formatMs(stats.p99 ?? 0)}` : 'no round trips';
  const roundTrips =
    stats.count > 0
      ? `round trip p50 ${formatMs(stats.p50 ?? 0)}, p99 ${formatMs(stats.p99 ?? 0)}, max ${formatMs(stats.max ?? 0)}`
      : 'no replies';
  const oddities = [
    duplicates > 0 ? `${formatCount(duplicates)} duplicated` : '',
    reordered > 0 ? `${formatCount(reordered)} reordered` : '',
    // The burst tags each datagram; a server that changes the bytes (a template) loses the tag, and its replies cannot be matched.
    unmatched > 0
      ? `${formatCount(unmatched)} ${burst.tagged ? "replies without the burst's tag (the server changed the bytes)" : 'replies more than datagrams sent'}`
      : '',
  ].filter(Boolean);
  const sentText = cancelled ? `cancelled after ${formatCount(sent)} of ${formatCount(count)} sent` : `${formatCount(sent)} sent`;
  const rate = describeRate(burst);
  return {
    outcome,
    summary: `${mark} ${sentText} · ${loss}${burst.keptRate ? '' : ` · ${rate.short}`} · ${times}`,
    detail:
      `burst: ${sentText}, ${formatCount(received)} answered, ${formatCount(lost)} lost (${loss})${oddities.map((text) => `, ${text}`).join('')}; ` +
      `${roundTrips}; ${rate.long}; took ${formatMs(durationMs)}; ${describeTag(burst.tagged)}`,
  };
}

/** "rate 48,210/s of 1,000,000/s asked": the asked rate, and the achieved one when it fell short. */
function describeRate({ askedRate, achievedRate, keptRate }: BurstResult): { short: string; long: string } {
  const perSecond = (rate: number): string => `${formatCount(Math.round(rate))}/s`;
  const achieved = achievedRate === undefined ? 'one datagram' : perSecond(achievedRate);
  if (askedRate === undefined) return { short: achieved, long: `sent at ${achieved}, as fast as the window allowed` };
  if (keptRate) return { short: perSecond(askedRate), long: `sent at ${perSecond(askedRate)} as asked` };
  const short = `rate ${achieved} of ${perSecond(askedRate)} asked`;
  return { short, long: `${short}: this machine, or the replies the window waited for, could not keep up` };
}

/** Said once per burst, in its log line: the bytes a server sees are not only the payload. */
function describeTag(tagged: boolean): string {
  return tagged
    ? `each datagram carried an ${BURST_TAG_BYTES}-byte tag after the payload to match its reply (@tag off sends the payload alone)`
    : 'sent without the tag (@tag off): replies were counted by order';
}

function notSent(base: Pick<BlockResult, 'name' | 'line'>, error: unknown): BlockResult {
  const message = messageOf(error);
  const text = isWorkbenchError(error) ? error.text : message;
  return { ...base, outcome: 'not-sent', summary: `✗ ${message}`, detail: `not sent: ${text}`, error };
}

export interface RunSummary {
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly timedOut: number;
  readonly notSent: number;
  /** Bursts that lost some of their datagrams. */
  readonly measured: number;
  /** Stopped by the user; Run All stops at the first. */
  readonly cancelled: number;
  /** Round trips of the blocks sent once (a burst reports its own). */
  readonly roundTrip: RoundTripSummary;
}

export function summarizeRun(results: readonly BlockResult[]): RunSummary {
  const count = (outcome: BlockOutcome): number => results.filter((result) => result.outcome === outcome).length;
  const roundTrips = new RoundTripStats();
  for (const result of results) if (result.rttMs !== undefined) roundTrips.add(result.rttMs);
  return {
    total: results.length,
    passed: count('passed'),
    failed: count('failed'),
    timedOut: count('timeout'),
    notSent: count('not-sent'),
    measured: count('measured'),
    cancelled: count('cancelled'),
    roundTrip: roundTrips.summary(),
  };
}

/** "5 blocks: 3 passed, 1 failed, 1 timed out; round trip over 4 replies: p50 0.42 ms, p99 1.10 ms, max 1.20 ms". */
export function describeRun(summary: RunSummary): string {
  const { total, passed, failed, timedOut, notSent, measured, cancelled, roundTrip } = summary;
  const counts = [`${formatCount(passed)} passed`, `${formatCount(failed)} failed`, `${formatCount(timedOut)} timed out`];
  if (notSent > 0) counts.push(`${formatCount(notSent)} not sent`);
  if (measured > 0) counts.push(`${formatCount(measured)} ${measured === 1 ? 'burst' : 'bursts'} with loss`);
  if (cancelled > 0) counts.push(`${formatCount(cancelled)} cancelled`);
  const blocks = `${formatCount(total)} ${total === 1 ? 'block' : 'blocks'}: ${counts.join(', ')}`;
  if (roundTrip.count === 0) return blocks;
  const { count, p50 = 0, p99 = 0, max = 0 } = roundTrip;
  return `${blocks}; round trip over ${formatCount(count)} ${count === 1 ? 'reply' : 'replies'}: p50 ${formatMs(p50)}, p99 ${formatMs(p99)}, max ${formatMs(max)}`;
}

/**
 * The log line of a block's result: `[name] summary: detail`, the name escaped, as it comes from the file. A block
 * not sent says why once: its summary is the short form of the same sentence.
 */
export function describeBlockResult(result: Pick<BlockResult, 'name' | 'outcome' | 'summary' | 'detail'>): string {
  const name = `[${escapeText(result.name)}]`;
  if (result.outcome === 'not-sent') return `${name} ✗ ${result.detail}`;
  return `${name} ${result.summary}${result.detail ? `: ${result.detail}` : ''}`;
}
