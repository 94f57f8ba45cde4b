import * as dgram from 'node:dgram';
import { formatEndpoint } from '../endpoint';
import { WorkbenchError } from '../errors';
import { peerOf, type Peer } from '../events';
import { GROUP_LIMITS } from '../limits';
import { interfaceFor, noMulticastRoute, type GroupKind } from '../net/groupAddress';
import { attemptWaitMs } from '../timing';
import type { SendOptions, SendResult } from './sendRequest';
import type { GroupReply, GroupSendOptions } from './sendRequest';

/** The send settings for groups; a `.udp` block's headers override them. */
export interface GroupSendDefaults {
  readonly allowBroadcast?: boolean;
  readonly multicastTtl?: number;
  readonly multicastLoopback?: boolean;
  /** Empty: the system's choice. */
  readonly multicastInterface?: string;
}

/** The settings, with what a block (or a caller) says instead. */
export function groupSendOptions(defaults: GroupSendDefaults, overrides: GroupSendOptions = {}): GroupSendOptions {
  return {
    ttl: overrides.ttl ?? defaults.multicastTtl,
    loopback: overrides.loopback ?? defaults.multicastLoopback,
    interface: overrides.interface ?? (defaults.multicastInterface || undefined),
    broadcast: overrides.broadcast ?? defaults.allowBroadcast,
  };
}

/** The TTL of a datagram to a group unless told: it stays on the network segment, as in SSDP and mDNS. */
export const DEFAULT_GROUP_TTL = 1;

/**
 * Sends to a multicast group or a broadcast address from a fresh unconnected socket (the replies come from each
 * member's own address, which a connected socket would refuse), and keeps every reply that arrives within the
 * timeout. Only when nobody answered does it send again, up to `retries` times. Errors the system raises for groups
 * are named here; the rest are left to sendDatagram, which names every other one.
 */
export async function sendToGroup(options: SendOptions, target: Peer, kind: GroupKind, requestId: number): Promise<SendResult> {
  const { payload, timeoutMs, retries, backoff, emit, signal } = options;
  const group = options.group ?? {};
  if (kind === 'broadcast' && !group.broadcast) throw broadcastNotAllowed(target);
  const iface = kind === 'multicast' ? interfaceFor(target.address, group.interface) : undefined;
  const expectReply = options.expectReply ?? true;
  const socket = dgram.createSocket(target.family === 'IPv4' ? 'udp4' : 'udp6');
  return new Promise<SendResult>((resolve, reject) => {
    const replies: GroupReply[] = [];
    const peers = new Set<string>();
    let more = 0;
    let fromMorePeers = 0;
    let attempt = 0;
    let sentAt = 0n;
    let timer: NodeJS.Timeout | undefined;
    let local: Peer | undefined;
    let settled = false;

    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.close(finish);
    };
    const fail = (error: unknown): void => settle(() => reject(groupError(error, kind, target)));
    const onAbort = (): void =>
      settle(() => reject(new WorkbenchError('CANCELLED', `Sending to ${formatEndpoint(target)} was cancelled.`, '')));
    const result = (outcome: SendResult['outcome']): SendResult => {
      const first = replies[0];
      return {
        requestId,
        target,
        local: local!,
        attempts: attempt,
        outcome,
        reply: first?.payload,
        from: first?.from,
        rttMs: first?.rttMs,
        group: { kind, replies, peers: peers.size, more, fromMorePeers },
      };
    };

    const sendAttempt = (): void => {
      attempt++;
      sentAt = process.hrtime.bigint();
      socket.send(payload, target.port, target.address, (error) => {
        if (error) fail(error);
        else if (!expectReply) settle(() => resolve(result('sent')));
      });
      emit?.({ kind: 'sent', at: Date.now(), requestId, target, payload, attempt, local: local! });
      if (!expectReply) return;
      const waitMs = attemptWaitMs(timeoutMs, backoff, attempt);
      timer = setTimeout(() => {
        if (replies.length > 0 || more > 0 || fromMorePeers > 0) {
          const listed = replies.map(({ from, rttMs, payload: bytes }) => ({ from, rttMs, size: bytes.length }));
          emit?.({
            kind: 'replies-collected',
            at: Date.now(),
            requestId,
            target,
            replies: listed,
            peers: peers.size,
            more,
            fromMorePeers,
            windowMs: waitMs,
          });
          return settle(() => resolve(result('reply')));
        }
        const willRetry = attempt <= retries;
        emit?.({ kind: 'timeout', at: Date.now(), requestId, target, attempt, timeoutMs: waitMs, willRetry });
        if (willRetry) sendAttempt();
        else settle(() => resolve(result('timeout')));
      }, waitMs);
    };

    socket.on('message', (reply, rinfo) => {
      const rttMs = Number(process.hrtime.bigint() - sentAt) / 1e6;
      const from = peerOf(rinfo);
      const source = formatEndpoint(from);
      if (peers.size < GROUP_LIMITS.maxPeers) peers.add(source);
      else if (!peers.has(source)) fromMorePeers++;
      if (replies.length >= GROUP_LIMITS.maxReplies) {
        more++;
        return;
      }
      replies.push({ from, rttMs, payload: reply, attempt });
      emit?.({ kind: 'reply', at: Date.now(), requestId, target, payload: reply, attempt, rttMs, from });
    });
    socket.on('error', fail);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.bind(0, () => {
      if (settled) return;
      try {
        local = peerOf(socket.address());
        configure(socket, kind, iface, options.group ?? {});
      } catch (error) {
        return fail(error);
      }
      sendAttempt();
    });
  });
}

function configure(socket: dgram.Socket, kind: GroupKind, iface: string | undefined, group: NonNullable<SendOptions['group']>): void {
  if (kind === 'broadcast') return socket.setBroadcast(true);
  if (iface !== undefined) socket.setMulticastInterface(iface);
  socket.setMulticastTTL(group.ttl ?? DEFAULT_GROUP_TTL);
  socket.setMulticastLoopback(group.loopback ?? true);
}

/** What the system says about a group send, in words that name the fix; other errors as they came. */
function groupError(error: unknown, kind: GroupKind, target: Peer): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const where = formatEndpoint(target);
  if (kind === 'broadcast' && code === 'EACCES') {
    return new WorkbenchError(
      'PERMISSION_DENIED',
      `This machine refused the broadcast to ${where}, although broadcast was allowed for this send.`,
      'A firewall rule or the system policy blocks it: allow it there, or send to one host instead.',
      { cause: error },
    );
  }
  if (kind === 'multicast' && (code === 'ENETUNREACH' || code === 'ENODEV' || code === 'EADDRNOTAVAIL')) {
    return noMulticastRoute(`Could not send to ${where}`, error);
  }
  return error;
}

/** A broadcast address without permission to broadcast, before the system refuses it with EACCES. */
export function broadcastNotAllowed(target: { address: string; port: number }, cause?: unknown): WorkbenchError {
  return new WorkbenchError(
    'BROADCAST_NOT_ALLOWED',
    `${formatEndpoint(target)} is a broadcast address: every host on the network segment would receive the datagram.`,
    'To send it anyway, add "@broadcast on" to the block of the .udp file, or turn on the Allow Broadcast setting (udpWorkbench.send.allowBroadcast).',
    { fix: 'open-settings', cause },
  );
}
