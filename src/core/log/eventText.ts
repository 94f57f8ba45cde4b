import { formatEndpoint } from '../endpoint';
import type {
  Direction,
  DropReason,
  Peer,
  ProxyDropReason,
  RepliesCollectedEvent,
  SessionCap,
  SessionLimitEvent,
  WorkbenchEvent,
} from '../events';
import { describeMembership } from '../net/groupMembership';
import { hexDump, isPrintable, previewText } from '../payload';
import { describeConfiguration } from './serverConfigText';
import { describeLink } from '../impairment/simulationSpec';
import { GROUP_LIMITS } from '../limits';
import { formatCount, formatMs, plural } from '../stats';
import type { GroupMembership } from '../configuration';

export type LogLevel = 'info' | 'warn' | 'error';

export interface LogEntry {
  readonly level: LogLevel;
  readonly text: string;
}

export interface DescribeOptions {
  /** How many bytes of a datagram to show. */
  readonly previewBytes: number;
  readonly hexDump: 'auto' | 'always' | 'never';
}

/**
 * However many bytes `previewBytes` asks for, one entry shows at most this much, so that one entry stays a small
 * part of what the log writes in a flush: 32 lines of hex dump (512 bytes), or 4,096 bytes as text. What is cut
 * is counted in the entry.
 */
export const MAX_HEX_DUMP_LINES = 32;
export const MAX_TEXT_PREVIEW_BYTES = 4096;

const DROP_REASONS: Record<DropReason, string> = {
  'simulated-loss-inbound': 'simulated loss on the way in',
  'simulated-loss-outbound': 'simulated loss of the reply',
  'rate-limited': 'rate limit for this peer',
  'send-failed': 'the reply could not be sent',
  'forged-source': 'forged source address (no datagram can come from it)',
  'own-socket': 'sent from a listening socket of this workbench (answering would loop)',
  'delay-queue-full': 'too many replies already waiting for their simulated delay',
};

export function describeDropReason(reason: DropReason): string {
  return DROP_REASONS[reason];
}

const PROXY_DROP_REASONS: Record<ProxyDropReason, string> = {
  'simulated-loss': 'simulated loss',
  'queue-full': 'simulated bandwidth queue full',
  'send-failed': 'it could not be sent',
  'forged-source': 'forged source address (no datagram can come from it)',
  'own-socket': 'sent from a listening socket of this workbench (relaying would loop)',
  'rate-limited': 'rate limit for this client',
  'session-limit': 'session limit reached',
  'delay-queue-full': 'too many datagrams already waiting for their simulated delay',
  amplification: 'larger than what its client on another machine sent (amplification guard)',
  'not-from-upstream': 'not from the upstream server',
  cancelled: 'still waiting for its delay when its session closed',
};

export function describeProxyDropReason(reason: ProxyDropReason): string {
  return PROXY_DROP_REASONS[reason];
}

const SESSION_CAPS: Record<SessionCap, (limit: string) => string> = {
  all: (limit) => `${limit} open, the limit: new clients are turned away until one closes`,
  remote: (limit) => `${limit} held by clients on other machines, all they may hold (the rest is kept for this machine's clients)`,
  'per-address': (limit) => `${limit} held by its address, all one address (or IPv6 /64) may hold`,
};

function describeSessionLimit(event: SessionLimitEvent): string {
  const cap = SESSION_CAPS[event.cap](plural(event.limit, 'session'));
  const more = event.lastNamed ? ' Further clients turned away are only counted.' : '';
  return `${at(event.peer)} turned away: ${cap}. Later datagrams from its address are only counted.${more} Raise the Proxy Max Sessions setting, or shorten the idle timeout.`;
}

/** "client → server" or "server → client". */
export function describeDirection(direction: Direction): string {
  return direction === 'to-server' ? 'client → server' : 'server → client';
}

/** Why a proxy sent one copy where the simulation asked for two. */
export const DUPLICATE_WITHHELD = 'its simulated duplicate held back: the client is on another machine (amplification guard)';

const at = (peer: Peer): string => formatEndpoint(peer);

/** One log entry for an event, in the user's words: who, what, how big, and the bytes themselves. */
export function describeEvent(event: WorkbenchEvent, options: DescribeOptions): LogEntry {
  switch (event.kind) {
    case 'server-started': {
      const listening = `[${event.serverId}] echo server listening on ${at(event.local)}${describeGroups('joined', event.groups)}`;
      return event.exposed ? { level: 'warn', text: `${listening} — reachable from other machines` } : { level: 'info', text: listening };
    }
    case 'server-stopped':
      return {
        level: 'info',
        text: `[${event.serverId}] echo server on ${at(event.local)} stopped${describeGroups('left', event.groups)}`,
      };
    case 'server-error':
      return { level: 'error', text: `[${event.serverId}] ${event.error.text}` };
    case 'server-configured':
      return { level: 'info', text: `[${event.serverId}] ${describeConfiguration(event.configuration)}` };
    case 'received':
      return info(`[${event.serverId}] received #${event.seq} from ${at(event.peer)}`, event.payload, options);
    case 'replied': {
      const notes = [
        event.delayMs > 0 ? `after ${formatMs(event.delayMs)}` : '',
        event.duplicate ? 'duplicate' : '',
        event.reordered ? 'held back to reorder' : '',
        event.truncated ? 'truncated to the request size' : '',
      ].filter(Boolean);
      const suffix = notes.length > 0 ? ` (${notes.join(', ')})` : '';
      return info(`[${event.serverId}] replied to #${event.seq} at ${at(event.peer)}${suffix}`, event.payload, options);
    }
    case 'dropped':
      return {
        level: 'warn',
        text: `[${event.serverId}] dropped #${event.seq} from ${at(event.peer)} (${describeDropReason(event.reason)}), ${plural(event.size, 'byte')}: ${previewText(event.payload, options.previewBytes)}`,
      };
    case 'kernel-dropped':
      return {
        level: 'warn',
        text:
          `[${event.serverId}] the system dropped ${plural(event.dropped, 'datagram')} for ${event.serverId}: its receive buffer was full ` +
          `(${plural(event.total, 'datagram')} since it started; the buffer is ${plural(event.receiveBufferBytes, 'byte')} as the system reports it). ` +
          'Give the server a larger receive buffer (the Recv Buffer Size setting), or send more slowly.',
      };
    case 'kernel-drops-unavailable':
      return {
        level: 'info',
        text: `[${event.serverId}] datagrams the system drops before a server reads them: not available on this system`,
      };
    case 'sent':
      return info(`sent to ${at(event.target)} from ${at(event.local)}${tryText(event.attempt)}`, event.payload, options);
    case 'reply':
      return info(`reply from ${at(event.from)} in ${formatMs(event.rttMs)}${tryText(event.attempt)}`, event.payload, options);
    case 'timeout':
      return {
        level: 'warn',
        text: `no reply from ${at(event.target)} within ${formatMs(event.timeoutMs)}${tryText(event.attempt)}${event.willRetry ? ', sending again' : ', giving up'}`,
      };
    case 'replies-collected':
      return { level: 'info', text: describeCollected(event) };
    case 'send-failed':
      return { level: 'error', text: `sending to ${at(event.target)} failed: ${event.error.text}` };
    case 'burst-sent':
      return info(`burst datagram #${event.seq + 1} sent to ${at(event.target)} from ${at(event.local)}`, event.payload, options);
    case 'burst-reply': {
      const answers = event.seq === undefined ? 'answering none of the burst' : `to #${event.seq + 1}${event.duplicate ? ', again' : ''}`;
      const time = event.rttMs === undefined ? '' : ` in ${formatMs(event.rttMs)}`;
      return info(`burst reply from ${at(event.from)} ${answers}${time}`, event.payload, options);
    }
    case 'burst-finished':
      return {
        level: 'info',
        text: `burst to ${at(event.target)} finished: ${plural(event.sent, 'datagram')} sent, ${formatCount(event.answered)} answered`,
      };
    case 'proxy-started': {
      const text = `[${event.proxyId}] impairment proxy listening on ${at(event.local)}, forwarding to ${at(event.upstream)}`;
      return event.exposed ? { level: 'warn', text: `${text} — reachable from other machines` } : { level: 'info', text };
    }
    case 'proxy-stopped':
      return { level: 'info', text: `[${event.proxyId}] impairment proxy on ${at(event.local)} stopped` };
    case 'proxy-error':
      return { level: 'error', text: `[${event.proxyId}] ${event.error.text}` };
    case 'proxy-configured':
      return { level: 'info', text: `[${event.proxyId}] ${describeDirection(event.direction)}: ${describeLink(event.link)}` };
    case 'session-opened':
      return { level: 'info', text: `[${event.proxyId}] session ${event.session} opened for ${at(event.peer)}` };
    case 'session-closed':
      return {
        level: 'info',
        text: `[${event.proxyId}] session ${event.session} for ${at(event.peer)} closed (${event.reason === 'idle' ? `idle ${formatMs(event.idleMs)}` : event.reason})`,
      };
    case 'session-limit':
      return { level: 'warn', text: `[${event.proxyId}] ${describeSessionLimit(event)}` };
    case 'proxy-received':
      return {
        level: 'info',
        text: `[${event.proxyId}] ${describeDirection(event.direction)} #${event.seq} received from ${at(event.source)}, ${plural(event.payload.length, 'byte')}`,
      };
    case 'forwarded': {
      const notes = [
        event.delayMs > 0 ? `after ${formatMs(event.delayMs)}` : '',
        event.duplicate ? 'duplicate' : '',
        event.reordered ? 'held back to reorder' : '',
        event.corruptedBit !== undefined ? `corrupted: bit ${event.corruptedBit} flipped` : '',
        event.duplicateWithheld ? DUPLICATE_WITHHELD : '',
      ].filter(Boolean);
      const suffix = notes.length > 0 ? ` (${notes.join(', ')})` : '';
      return info(
        `[${event.proxyId}] ${describeDirection(event.direction)} #${event.seq} forwarded, session ${event.session} ${at(event.peer)}${suffix}`,
        event.payload,
        options,
      );
    }
    case 'proxy-dropped':
      return {
        level: 'warn',
        text: `[${event.proxyId}] ${describeDirection(event.direction)} #${event.seq} dropped, session ${event.session} ${at(event.peer)} (${describeProxyDropReason(event.reason)}), ${plural(event.size, 'byte')}: ${previewText(event.payload, options.previewBytes)}`,
      };
  }
}

function info(headline: string, payload: Buffer, options: DescribeOptions): LogEntry {
  const size = plural(payload.length, 'byte');
  const asHex = options.hexDump === 'always' || (options.hexDump === 'auto' && !isPrintable(payload));
  const text = asHex
    ? `${headline}, ${size}:\n${hexDump(payload, Math.min(options.previewBytes, MAX_HEX_DUMP_LINES * 16))
        .map((line) => `    ${line}`)
        .join('\n')}`
    : `${headline}, ${size}: ${previewText(payload, Math.min(options.previewBytes, MAX_TEXT_PREVIEW_BYTES))}`;
  return { level: 'info', text };
}

/** ", joined group 239.1.2.3 on eth0, ff02::1234%lo". */
function describeGroups(verb: string, groups: readonly GroupMembership[] | undefined): string {
  if (groups === undefined || groups.length === 0) return '';
  return `, ${verb} ${groups.length === 1 ? 'group' : 'groups'} ${groups.map(describeMembership).join(', ')}`;
}

/** "2 peers answered 239.1.2.3:5000 within 1 s: 10.0.0.2:5000 in 0.41 ms (31 bytes), …". */
function describeCollected(event: RepliesCollectedEvent): string {
  const { replies, peers, more, fromMorePeers } = event;
  const count = replies.length + more;
  const answered = `${peersAnswered(peers, fromMorePeers)} answered ${at(event.target)} within ${formatMs(event.windowMs)}`;
  return `${answered}${count === peers ? '' : ` (${replyCount(count)})`}: ${describeReplies(replies, more, fromMorePeers)}`;
}

/** "2 peers", or "4,096 peers and more" when a send stopped telling its repliers apart. */
export function peersAnswered(peers: number, fromMorePeers: number): string {
  return `${plural(peers, 'peer')}${fromMorePeers > 0 ? ' and more' : ''}`;
}

/** "10.0.0.2:5000 in 0.41 ms (31 bytes), 10.0.0.3:5000 in 0.52 ms (31 bytes), and 3 replies more not listed". */
export function describeReplies(replies: RepliesCollectedEvent['replies'], more: number, fromMorePeers: number): string {
  const each = replies.map(({ from, rttMs, size }) => `${at(from)} in ${formatMs(rttMs)} (${plural(size, 'byte')})`).join(', ');
  const beyond =
    fromMorePeers > 0
      ? `; ${replyCount(fromMorePeers)} came from sources past the first ${formatCount(GROUP_LIMITS.maxPeers)}, counted but not told apart`
      : '';
  return `${each}${more > 0 ? `, and ${replyCount(more)} more not listed` : ''}${beyond}`;
}

function replyCount(count: number): string {
  return `${formatCount(count)} ${count === 1 ? 'reply' : 'replies'}`;
}

function tryText(attempt: number): string {
  return attempt > 1 ? ` (try ${attempt})` : '';
}
