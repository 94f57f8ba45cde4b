import type { WorkbenchError } from './errors';
import type { GroupMembership, LinkSettings, ReplyMode, ServerProtection, SimulationSettings } from './configuration';

/** A socket address as Node reports it. */
export interface Peer {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** A socket's address, a sender's `rinfo` or a resolved host as a Peer; the family as Node or dns names it. */
export function peerOf(address: { readonly address: string; readonly port: number; readonly family: string | number }): Peer {
  const { family } = address;
  return { address: address.address, port: address.port, family: family === 'IPv6' || family === 6 ? 'IPv6' : 'IPv4' };
}

/** The family as MAX_DATAGRAM_BYTES and dns number it. */
export function familyNumber(peer: Peer): 4 | 6 {
  return peer.family === 'IPv4' ? 4 : 6;
}

/** Why a datagram was not delivered: simulation, protection or a socket failure. Never silent. */
export type DropReason =
  | 'simulated-loss-inbound'
  | 'simulated-loss-outbound'
  | 'rate-limited'
  | 'send-failed'
  /** A source no datagram can truly come from (see sourceAddress.ts): only a forged packet carries one. */
  | 'forged-source'
  /** From a listening socket of this workbench: answering it would loop (see ownSockets.ts). */
  | 'own-socket'
  /** Too many replies (or bytes) already wait for their simulated delay. */
  | 'delay-queue-full';

interface Base {
  /** Date.now() when it happened. */
  readonly at: number;
}

interface ServerBase extends Base {
  readonly serverId: string;
}

export interface ServerStartedEvent extends ServerBase {
  readonly kind: 'server-started';
  readonly local: Peer;
  /** Bound to an address other machines can reach (not loopback). */
  readonly exposed: boolean;
  /** The multicast groups it joined, if any. */
  readonly groups?: readonly GroupMembership[];
}
export interface ServerStoppedEvent extends ServerBase {
  readonly kind: 'server-stopped';
  readonly local: Peer;
  /** The multicast groups it left, if any. */
  readonly groups?: readonly GroupMembership[];
}
/** A socket error the server survived (it keeps listening). */
export interface ServerErrorEvent extends ServerBase {
  readonly kind: 'server-error';
  readonly error: WorkbenchError;
}
/** What a running server was told to change, with its new value. */
export type ServerConfiguration =
  | { readonly change: 'reply'; readonly replyMode: ReplyMode; readonly template: string | undefined }
  | { readonly change: 'simulation'; readonly simulation: SimulationSettings }
  | ({ readonly change: 'protection' } & ServerProtection);
/** A running server's replies, simulation or protection changed (from the settings or a command): views show it at once. */
export interface ServerConfiguredEvent extends ServerBase {
  readonly kind: 'server-configured';
  readonly configuration: ServerConfiguration;
}
export interface DatagramReceivedEvent extends ServerBase {
  readonly kind: 'received';
  readonly peer: Peer;
  readonly payload: Buffer;
  /** 1 for the first datagram this server received. */
  readonly seq: number;
}
export interface ReplySentEvent extends ServerBase {
  readonly kind: 'replied';
  readonly peer: Peer;
  readonly payload: Buffer;
  readonly seq: number;
  /** Simulated delay this copy waited, in ms. */
  readonly delayMs: number;
  /** This copy is a simulated duplicate. */
  readonly duplicate: boolean;
  /** Simulation held this reply back so later ones overtook it. */
  readonly reordered: boolean;
  /** Template output was cut to the request's size by the amplification guard. */
  readonly truncated: boolean;
}
export interface DatagramDroppedEvent extends ServerBase {
  readonly kind: 'dropped';
  readonly peer: Peer;
  readonly size: number;
  /** The datagram as it was received, so the log can name it. */
  readonly payload: Buffer;
  readonly seq: number;
  readonly reason: DropReason;
}
/** The system dropped datagrams for this server before it could read them: its receive buffer was full. */
export interface KernelDropsEvent extends ServerBase {
  readonly kind: 'kernel-dropped';
  /** New since the last report. */
  readonly dropped: number;
  /** Since the server started. */
  readonly total: number;
  /** The receive buffer as the system reports it, in bytes. */
  readonly receiveBufferBytes: number;
}
/** The system gives no drop count for this server's socket; said once, instead of showing 0. */
export interface KernelDropsUnavailableEvent extends ServerBase {
  readonly kind: 'kernel-drops-unavailable';
}

interface ClientBase extends Base {
  /** One id per sendDatagram or sendBurst call, shared by its attempts or its datagrams. */
  readonly requestId: number;
  readonly target: Peer;
}
export interface DatagramSentEvent extends ClientBase {
  readonly kind: 'sent';
  readonly payload: Buffer;
  /** 1 for the first try. */
  readonly attempt: number;
  readonly local: Peer;
}
export interface ReplyReceivedEvent extends ClientBase {
  readonly kind: 'reply';
  readonly payload: Buffer;
  readonly attempt: number;
  readonly rttMs: number;
  readonly from: Peer;
}
export interface TimeoutEvent extends ClientBase {
  readonly kind: 'timeout';
  readonly attempt: number;
  readonly timeoutMs: number;
  /** Another attempt follows. */
  readonly willRetry: boolean;
}
/**
 * One datagram of a burst went out. A burst's datagrams come as a flood: the log counts them rather than showing
 * each, and the burst's caller reports its result.
 */
export interface BurstSentEvent extends ClientBase {
  readonly kind: 'burst-sent';
  /** As sent, the burst's tag included. */
  readonly payload: Buffer;
  /** 0 for the burst's first datagram. */
  readonly seq: number;
  readonly local: Peer;
}
/** A reply reached a burst's socket. */
export interface BurstReplyEvent extends ClientBase {
  readonly kind: 'burst-reply';
  readonly payload: Buffer;
  readonly from: Peer;
  readonly local: Peer;
  /** The datagram it answers; undefined when it answers none of this burst's (no tag of the burst, or beyond the sends). */
  readonly seq: number | undefined;
  /** Another reply to a datagram already answered. */
  readonly duplicate: boolean;
  /** From its datagram's send; undefined for a duplicate or a reply that answers none. */
  readonly rttMs: number | undefined;
}
/** A burst ended (not cancelled: then nothing more is known): its datagrams still unanswered never will be. */
export interface BurstFinishedEvent extends ClientBase {
  readonly kind: 'burst-finished';
  readonly sent: number;
  readonly answered: number;
}
/** A send to a group or a broadcast address stopped listening: who answered, and each round trip. */
export interface RepliesCollectedEvent extends ClientBase {
  readonly kind: 'replies-collected';
  /** In the order they came; each also had its own 'reply' event. */
  readonly replies: ReadonlyArray<{ readonly from: Peer; readonly rttMs: number; readonly size: number }>;
  /** Distinct sources among them. */
  readonly peers: number;
  /** Replies past the most a send keeps: counted, not listed. */
  readonly more: number;
  /** Replies from sources past the most a send tells apart (GROUP_LIMITS.maxPeers): counted, not told apart. */
  readonly fromMorePeers: number;
  /** How long it listened after its last send, in ms. */
  readonly windowMs: number;
}
export interface SendFailedEvent extends ClientBase {
  readonly kind: 'send-failed';
  readonly error: WorkbenchError;
}

/** Which way a datagram crosses a proxy. */
export type Direction = 'to-server' | 'to-client';

/** Why a proxy did not forward a datagram. */
export type ProxyDropReason =
  | 'simulated-loss'
  /** The simulated bandwidth's queue was full. */
  | 'queue-full'
  | 'send-failed'
  /** A source no datagram can truly come from (see sourceAddress.ts). */
  | 'forged-source'
  /** From a listening socket of this workbench: relaying it would loop (see ownSockets.ts). */
  | 'own-socket'
  | 'rate-limited'
  /** A new client while the proxy already had as many sessions as allowed (see SessionCap). */
  | 'session-limit'
  /** Its simulated delay would have made more datagrams (or bytes) wait in this direction than the delay queue holds. */
  | 'delay-queue-full'
  /** A reply larger than what its client on another machine has sent so far (amplification guard). */
  | 'amplification'
  /** A datagram on a session's upstream socket from anyone but the upstream server. */
  | 'not-from-upstream'
  /** Still waiting for its simulated delay when its session closed or the proxy stopped. */
  | 'cancelled';

interface ProxyBase extends Base {
  readonly proxyId: string;
}
export interface ProxyStartedEvent extends ProxyBase {
  readonly kind: 'proxy-started';
  readonly local: Peer;
  readonly upstream: Peer;
  /** Listens on an address other machines can reach (not loopback). */
  readonly exposed: boolean;
}
export interface ProxyStoppedEvent extends ProxyBase {
  readonly kind: 'proxy-stopped';
  readonly local: Peer;
}
/** A socket error the proxy survived. */
export interface ProxyErrorEvent extends ProxyBase {
  readonly kind: 'proxy-error';
  readonly error: WorkbenchError;
}
/** One direction's impairment changed. */
export interface ProxyConfiguredEvent extends ProxyBase {
  readonly kind: 'proxy-configured';
  readonly direction: Direction;
  readonly link: LinkSettings;
}
/** A client's first datagram opened a session: its own upstream socket, so the server sees one peer per client. */
export interface SessionOpenedEvent extends ProxyBase {
  readonly kind: 'session-opened';
  readonly session: number;
  /** The client. */
  readonly peer: Peer;
}
export interface SessionClosedEvent extends ProxyBase {
  readonly kind: 'session-closed';
  readonly session: number;
  readonly peer: Peer;
  /** evicted: the idlest session of a client on another machine, to make room for a client on this one. */
  readonly reason: 'idle' | 'stopped' | 'socket-error' | 'evicted';
  readonly idleMs: number;
}
/**
 * Which cap turned a client away: all the sessions; the share clients on other machines may hold (the rest is kept
 * for this machine's); or the sessions of one address (an IPv6 /64 counts as one).
 */
export type SessionCap = 'all' | 'remote' | 'per-address';
/** A cap turned a new client away: told once per address (or /64), for the first few addresses, then only counted. */
export interface SessionLimitEvent extends ProxyBase {
  readonly kind: 'session-limit';
  readonly cap: SessionCap;
  readonly limit: number;
  /** The client turned away; later clients from its address are not told of again. */
  readonly peer: Peer;
  /** The last address named: others turned away after it are only counted ('session-limit' drops). */
  readonly lastNamed: boolean;
}
interface ProxyDatagram extends ProxyBase {
  readonly direction: Direction;
  /** 0 for a client refused before it had a session. */
  readonly session: number;
  /** The session's client, whichever way the datagram goes. */
  readonly peer: Peer;
  /** 1 for the first datagram received in this direction. */
  readonly seq: number;
  /**
   * The datagram's addresses on the wire, as the capture shows them: received from a client (or the server) on one
   * of the proxy's sockets, or forwarded from one to the server (or the client). A session's upstream socket is on
   * the address the system sends to the server from.
   */
  readonly source: Peer;
  readonly destination: Peer;
}
/** A datagram reached the proxy, either way; `forwarded` or `proxy-dropped` follows with the same direction and seq. */
export interface ProxyReceivedEvent extends ProxyDatagram {
  readonly kind: 'proxy-received';
  readonly payload: Buffer;
}
export interface ProxyForwardedEvent extends ProxyDatagram {
  readonly kind: 'forwarded';
  /** As sent: corrupted when `corruptedBit` is set. */
  readonly payload: Buffer;
  readonly delayMs: number;
  readonly duplicate: boolean;
  readonly reordered: boolean;
  /** The bit flipped by simulated corruption (0 is the first byte's top bit). */
  readonly corruptedBit: number | undefined;
  /** The simulation's duplicate of this datagram was not sent: the client is on another machine (amplification guard). */
  readonly duplicateWithheld: boolean;
}
export interface ProxyDroppedEvent extends ProxyDatagram {
  readonly kind: 'proxy-dropped';
  readonly payload: Buffer;
  readonly size: number;
  readonly reason: ProxyDropReason;
}

export type ProxyEvent =
  | ProxyStartedEvent
  | ProxyStoppedEvent
  | ProxyErrorEvent
  | ProxyConfiguredEvent
  | SessionOpenedEvent
  | SessionClosedEvent
  | SessionLimitEvent
  | ProxyReceivedEvent
  | ProxyForwardedEvent
  | ProxyDroppedEvent;

export type ServerEvent =
  | ServerStartedEvent
  | ServerStoppedEvent
  | ServerErrorEvent
  | ServerConfiguredEvent
  | DatagramReceivedEvent
  | ReplySentEvent
  | DatagramDroppedEvent
  | KernelDropsEvent
  | KernelDropsUnavailableEvent;
export type ClientEvent =
  | DatagramSentEvent
  | ReplyReceivedEvent
  | TimeoutEvent
  | RepliesCollectedEvent
  | SendFailedEvent
  | BurstSentEvent
  | BurstReplyEvent
  | BurstFinishedEvent;
export type WorkbenchEvent = ServerEvent | ClientEvent | ProxyEvent;

/** Where the core puts its events. It must return at once: the core never waits for a view. */
export type EventSink = (event: WorkbenchEvent) => void;

/** A listener registration that can be undone; structurally a vscode.Disposable. */
export interface Subscription {
  dispose(): void;
}

/** Fans one stream of events out to any number of listeners; a throwing listener cannot break the others. */
export class EventStream<T> {
  // An array replaced on every change, not a Set: emit runs for each datagram, and an indexed loop over a snapshot
  // costs less than a Set's iterator. Listeners change a few times in a session.
  private listeners: ReadonlyArray<(event: T) => void> = [];
  /** Told what a listener threw; the core writes nowhere itself, so its owner (the extension's log) reports it. */
  onListenerError: ((error: unknown) => void) | undefined;

  readonly emit = (event: T): void => {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      const listener = listeners[i];
      // One that unsubscribed during this emit hears nothing more.
      if (listeners !== this.listeners && !this.listeners.includes(listener)) continue;
      try {
        listener(event);
      } catch (err) {
        // A broken view must not stop the server that feeds it.
        this.onListenerError?.(err);
      }
    }
  };

  subscribe(listener: (event: T) => void): Subscription {
    if (!this.listeners.includes(listener)) this.listeners = [...this.listeners, listener];
    return { dispose: () => void (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }

  dispose(): void {
    this.listeners = [];
  }
}
