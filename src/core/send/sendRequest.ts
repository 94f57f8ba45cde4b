// What a send asks for and what it gives back, for one peer and for a group alike: client.ts sends, and hands
// a datagram to a group or a broadcast address on to groupSend.ts, which answers in the same shape.
import type { Endpoint } from '../endpoint';
import type { EventSink, Peer } from '../events';
import type { GroupKind } from '../net/groupAddress';

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
  /** How a datagram to a multicast group or a broadcast address leaves; ignored for other targets. */
  group?: GroupSendOptions;
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
  /** Sent to a group or a broadcast address: every reply (`reply`, `from` and `rttMs` are the first one's). */
  group?: GroupReplies;
}

/** How a datagram to a group or a broadcast address leaves: `@ttl`, `@loopback`, `@interface`, `@broadcast`. */
export interface GroupSendOptions {
  /** Hops it may take (IPv6: the hop limit); default 1, this network segment; 0 keeps it on this machine. */
  readonly ttl?: number;
  /** Default true: listeners on this machine receive it too. */
  readonly loopback?: boolean;
  /** Name (`eth0`) or address of the interface it leaves by; default: the system's choice. */
  readonly interface?: string;
  /** Sending to a broadcast address is refused without it, as Node refuses it. */
  readonly broadcast?: boolean;
}

/** One answer to a datagram sent to a group or a broadcast address. */
export interface GroupReply {
  readonly from: Peer;
  /** From the latest send, as for a single reply. */
  readonly rttMs: number;
  readonly payload: Buffer;
  readonly attempt: number;
}

/** Everyone who answered a send to a group or a broadcast address within its timeout: the SSDP M-SEARCH pattern. */
export interface GroupReplies {
  readonly kind: GroupKind;
  /** In the order they came, at most GROUP_LIMITS.maxReplies. */
  readonly replies: readonly GroupReply[];
  /** Distinct sources (address and port) among them, at most GROUP_LIMITS.maxPeers. */
  readonly peers: number;
  /** Replies past GROUP_LIMITS.maxReplies: counted, not kept. */
  readonly more: number;
  /** Replies from sources past the first GROUP_LIMITS.maxPeers: counted, not told apart (forged sources could be countless). */
  readonly fromMorePeers: number;
}
