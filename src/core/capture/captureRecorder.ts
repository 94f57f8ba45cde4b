import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { CaptureBuffer, DatagramView } from './captureBuffer';
import { ExchangeKeys } from './captureExchange';
import { isLoopback, isWildcard } from '../endpoint';
import { escapeText } from '../escapeText';
import type {
  BurstReplyEvent,
  DatagramDroppedEvent,
  Direction,
  Peer,
  ProxyDroppedEvent,
  ProxyForwardedEvent,
  ReplySentEvent,
  WorkbenchEvent,
} from '../events';
import { describeDirection, describeProxyDropReason, DUPLICATE_WITHHELD } from '../log/eventText';
import { formatMs } from '../stats';
import type { CaptureAddress } from './pcapng';
import type { TrafficDirection, TrafficFate } from './datagramFate';

/** Microseconds since the Unix epoch, finer than Date.now(). */
export type MicrosecondClock = () => number;

/** Read once: the getter costs about as much as the clock itself, and the origin never changes. */
const timeOrigin = performance.timeOrigin;

export const systemMicros: MicrosecondClock = () => Math.round((timeOrigin + performance.now()) * 1000);

const REMEMBERED_SENDERS = 4096;

/** The events that put a datagram on the wire: the clock is read for these, first thing. */
const DATAGRAM_KINDS: ReadonlySet<WorkbenchEvent['kind']> = new Set([
  'received',
  'proxy-received',
  'forwarded',
  'replied',
  'sent',
  'reply',
  'burst-sent',
  'burst-reply',
] as const);

/** Told of each datagram as it is recorded, read in place (copy what you keep): the traffic view's charts, a capture file. */
export type RecordListener = (datagram: DatagramView) => void;

/** Keyed by string: reasons added to DropReason later still get a comment, the generic one. */
const DROP_COMMENTS: ReadonlyMap<string, string> = new Map([
  ['simulated-loss-inbound', 'dropped by simulation (loss on the way in)'],
  ['simulated-loss-outbound', 'reply dropped by simulation (loss on the way out)'],
  ['rate-limited', 'rate-limited: dropped (this peer sent faster than the rate limit)'],
]);

/**
 * Turns the workbench's events into the datagrams that were on the wire, each with what the simulation did
 * to it as a comment, written into a capture buffer. A datagram a server or proxy received is held until the end
 * of the turn it arrived in, because it is decided then whether it is dropped (the drop event follows at once);
 * its comment says so. A proxy's datagram is on the wire twice: as it reached the proxy, then as each copy left it
 * for the other side. A datagram between two of the workbench's own sockets is recorded once: by the proxy if one
 * carried it (it knows what the link did), else by the server; so a send to one of its own servers is recorded by
 * the server, and the same holds for the reply. Per datagram it builds no object of its own: the buffer keeps
 * columns, exchanges are numbers, and the requests whose fate may still change are remembered by id.
 */
export class CaptureRecorder {
  private readonly servers = new Map<string, Peer>();
  private readonly proxies = new Map<string, Peer>();
  /** The address of each recent session's upstream socket, by port: a server's traffic with it is the proxy's to record. */
  private readonly proxyUpstreams = new Map<number, string>();
  /** Where each recent request was sent from: its reply goes there. Oldest forgotten first, beyond a bound. */
  private readonly senders = new Map<number, Peer>();
  /** The id of the received datagram waiting for the end of its turn, and its exchange. */
  private heldId = -1;
  private heldExchange = 0;
  private flushQueued = false;
  private readonly exchanges: ExchangeKeys;
  private readonly serverOwners = new Map<string, number>();
  private readonly proxyOwners = new Map<string, readonly [toServer: number, toClient: number]>();
  private readonly clientOwner: number;
  private burstRequest = -1;
  private burstOwner = 0;
  /** Whether the last target asked about is one of our sockets: a burst asks about the same target a million times. */
  private lastTarget: CaptureAddress | undefined;
  private lastTargetIsOurs = false;
  /** Recent requests (owner, number → id), so their fate follows what happens to them: see `remember`. */
  private readonly requests: Array<Map<number, number> | undefined> = [];
  private readonly rememberedOwner = new Int32Array(REMEMBERED_SENDERS).fill(-1);
  private readonly rememberedNumber = new Float64Array(REMEMBERED_SENDERS);
  private readonly rememberedId = new Float64Array(REMEMBERED_SENDERS);
  private rememberedNext = 0;

  constructor(
    private readonly buffer: CaptureBuffer,
    private readonly onRecord: RecordListener | undefined = undefined,
    private readonly now: MicrosecondClock = systemMicros,
  ) {
    this.exchanges = buffer.exchanges;
    this.clientOwner = this.exchanges.owner('request ');
  }

  readonly add = (event: WorkbenchEvent): void => {
    // Before anything else is done: the stamp is as close to the datagram's arrival or departure as the event allows.
    const atMicros = DATAGRAM_KINDS.has(event.kind) ? this.now() : 0;
    if (
      this.heldId >= 0 &&
      (event.kind === 'dropped' || event.kind === 'proxy-dropped') &&
      this.heldExchange === this.dropExchange(event)
    ) {
      const id = this.heldId;
      this.heldId = -1;
      this.buffer.setComment(id, event.kind === 'dropped' ? dropComment(event) : proxyDropComment(event));
      this.buffer.setFate(id, event.reason === 'rate-limited' ? 'rate-limited' : 'dropped');
      this.remember(this.heldExchange, id);
      this.commit(id);
      return;
    }
    this.flush();
    // Kinds added later fall through every case: the record stays what the known kinds make it.
    switch (event.kind) {
      case 'server-started':
        this.servers.set(event.serverId, event.local);
        this.lastTarget = undefined;
        break;
      case 'server-stopped':
        this.servers.delete(event.serverId);
        this.lastTarget = undefined;
        break;
      case 'proxy-started':
        this.proxies.set(event.proxyId, event.local);
        this.lastTarget = undefined;
        break;
      case 'proxy-stopped':
        this.proxies.delete(event.proxyId);
        this.lastTarget = undefined;
        break;
      case 'received': {
        const local = this.servers.get(event.serverId);
        if (local === undefined || this.isProxyUpstream(event.peer)) break;
        this.hold(atMicros, event.peer, local, event.payload, this.serverExchange(event.serverId, event.seq));
        break;
      }
      case 'proxy-received':
        this.hold(atMicros, event.source, event.destination, event.payload, this.proxyExchange(event.proxyId, event.direction, event.seq));
        break;
      case 'forwarded': {
        if (event.direction === 'to-server') this.rememberProxyUpstream(event.source);
        const exchange = this.proxyExchange(event.proxyId, event.direction, event.seq);
        this.settle(exchange, 'forwarded');
        this.record(atMicros, event.source, event.destination, event.payload, 'out', forwardFate(event), exchange, forwardComment(event));
        break;
      }
      // As for a server's: a drop after the turn (a copy that could not be sent, or was cancelled) only marks it.
      case 'proxy-dropped':
        this.settle(
          this.proxyExchange(event.proxyId, event.direction, event.seq),
          event.reason === 'rate-limited' ? 'rate-limited' : 'dropped',
        );
        break;
      case 'replied': {
        const local = this.servers.get(event.serverId);
        if (local === undefined || this.isProxyUpstream(event.peer)) break;
        const exchange = this.serverExchange(event.serverId, event.seq);
        this.settle(exchange, 'replied');
        this.record(atMicros, local, event.peer, event.payload, 'out', replyFate(event), exchange, replyComment(event));
        break;
      }
      case 'sent':
        this.rememberSender(event.requestId, event.local);
        if (!this.isOurs(event.target)) {
          const exchange = ExchangeKeys.key(this.clientOwner, event.requestId);
          const comment = event.attempt > 1 ? `attempt ${event.attempt}: sent again after no reply in time` : undefined;
          this.remember(exchange, this.record(atMicros, event.local, event.target, event.payload, 'out', 'sent', exchange, comment));
        }
        break;
      case 'reply': {
        if (this.isOurs(event.from)) break;
        const exchange = ExchangeKeys.key(this.clientOwner, event.requestId);
        this.settle(exchange, 'replied');
        const destination = this.senders.get(event.requestId) ?? unknownSender(event.from);
        this.record(atMicros, event.from, destination, event.payload, 'in', 'reply', exchange, `reply after ${formatMs(event.rttMs)}`);
        break;
      }
      case 'timeout':
        this.settle(ExchangeKeys.key(this.clientOwner, event.requestId), 'timed-out');
        break;
      case 'burst-sent': {
        if (this.isOurs(event.target)) break;
        const exchange = ExchangeKeys.key(this.burstOwnerOf(event.requestId), event.seq + 1);
        this.remember(exchange, this.record(atMicros, event.local, event.target, event.payload, 'out', 'sent', exchange, undefined));
        break;
      }
      case 'burst-reply': {
        if (this.isOurs(event.from)) break;
        const exchange =
          event.seq === undefined
            ? ExchangeKeys.key(this.clientOwner, event.requestId)
            : ExchangeKeys.key(this.burstOwnerOf(event.requestId), event.seq + 1);
        if (event.seq !== undefined && !event.duplicate) this.settle(exchange, 'replied');
        this.record(atMicros, event.from, event.local, event.payload, 'in', 'reply', exchange, burstReplyComment(event));
        break;
      }
      case 'burst-finished':
        this.timeOutBurst(event.requestId);
        break;
      // A later drop (a reply that could not be sent) leaves nothing on the wire: its request is recorded already, and marked.
      case 'dropped':
        this.settle(this.serverExchange(event.serverId, event.seq), event.reason === 'rate-limited' ? 'rate-limited' : 'dropped');
        break;
      case 'send-failed':
      case 'server-error':
        break;
    }
  };

  /** Records the datagram held back for its server's or proxy's decision, if any. */
  flush(): void {
    const id = this.heldId;
    if (id < 0) return;
    this.heldId = -1;
    this.commit(id);
  }

  /** Runs once at the end of a turn that held a datagram: one function for every turn, none made per datagram. */
  private readonly flushAtEndOfTurn = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /** A received datagram, recorded at the end of this turn unless a drop of it comes first. */
  private hold(atMicros: number, source: Peer, destination: Peer, payload: Buffer, exchange: number): void {
    const id = this.buffer.write(
      { atMicros, source, destination, payload, direction: 'in', fate: 'received', exchange, comment: undefined },
      true,
    );
    this.heldId = id;
    this.heldExchange = exchange;
    this.remember(exchange, id);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushAtEndOfTurn);
    }
  }

  private record(
    atMicros: number,
    source: CaptureAddress,
    destination: CaptureAddress,
    payload: Buffer,
    direction: TrafficDirection,
    fate: TrafficFate,
    exchange: number,
    comment: string | undefined,
  ): number {
    const id = this.buffer.write({ atMicros, source, destination, payload, direction, fate, exchange, comment });
    this.onRecord?.(this.buffer.viewById(id)!);
    return id;
  }

  private commit(id: number): void {
    this.buffer.commit();
    if (this.onRecord !== undefined) {
      const view = this.buffer.viewById(id);
      if (view !== undefined) this.onRecord(view);
    }
  }

  /**
   * Remembers the request with this exchange, for `settle`; the 4,096 most recent are, oldest forgotten first, in a
   * ring of numbers: nothing for the garbage collector to walk, and no iterator over deleted keys.
   */
  private remember(exchange: number, id: number): void {
    const next = this.rememberedNext;
    const oldOwner = this.rememberedOwner[next];
    // Unless the same exchange was remembered again since (a drop, a retry): then that newer one stays.
    if (oldOwner >= 0) {
      const requests = this.requests[oldOwner]!;
      const number = this.rememberedNumber[next];
      if (requests.get(number) === this.rememberedId[next]) requests.delete(number);
    }
    const owner = ExchangeKeys.ownerOf(exchange);
    const number = exchange - owner * 0x1_0000_0000;
    (this.requests[owner] ??= new Map()).set(number, id);
    this.rememberedOwner[next] = owner;
    this.rememberedNumber[next] = number;
    this.rememberedId[next] = id;
    this.rememberedNext = (next + 1) % REMEMBERED_SENDERS;
  }

  /** The request of an exchange learns its fate; a drop it was already marked with stays. */
  private settle(exchange: number, fate: TrafficFate): void {
    const owner = ExchangeKeys.ownerOf(exchange);
    const id = this.requests[owner]?.get(exchange - owner * 0x1_0000_0000);
    if (id === undefined) return;
    const was = this.buffer.fateOf(id);
    if (was !== undefined && was !== 'dropped' && was !== 'rate-limited') this.buffer.setFate(id, fate);
  }

  /** A finished burst's datagrams that still wait for a reply, among those remembered, never get one. */
  private timeOutBurst(requestId: number): void {
    const owner = this.exchanges.owner(burstPrefix(requestId));
    for (let i = 0; i < REMEMBERED_SENDERS; i++) {
      if (this.rememberedOwner[i] !== owner) continue;
      const id = this.rememberedId[i];
      if (this.buffer.fateOf(id) === 'sent') this.buffer.setFate(id, 'timed-out');
    }
  }

  private serverExchange(serverId: string, seq: number): number {
    let owner = this.serverOwners.get(serverId);
    if (owner === undefined) {
      owner = this.exchanges.owner(`${serverId}#`);
      this.serverOwners.set(serverId, owner);
    }
    return ExchangeKeys.key(owner, seq);
  }

  private proxyExchange(proxyId: string, direction: Direction, seq: number): number {
    let owners = this.proxyOwners.get(proxyId);
    if (owners === undefined) {
      owners = [this.exchanges.owner(`${proxyId}→server#`), this.exchanges.owner(`${proxyId}→client#`)];
      this.proxyOwners.set(proxyId, owners);
    }
    return ExchangeKeys.key(owners[direction === 'to-server' ? 0 : 1], seq);
  }

  private dropExchange(event: DatagramDroppedEvent | ProxyDroppedEvent): number {
    return event.kind === 'dropped'
      ? this.serverExchange(event.serverId, event.seq)
      : this.proxyExchange(event.proxyId, event.direction, event.seq);
  }

  private burstOwnerOf(requestId: number): number {
    if (requestId !== this.burstRequest) {
      this.burstRequest = requestId;
      this.burstOwner = this.exchanges.owner(burstPrefix(requestId));
    }
    return this.burstOwner;
  }

  private rememberSender(requestId: number, local: Peer): void {
    this.senders.delete(requestId);
    this.senders.set(requestId, local);
    if (this.senders.size > REMEMBERED_SENDERS) this.senders.delete(this.senders.keys().next().value!);
  }

  /** Whether `address` is one of the workbench's own servers or proxies: their side records that traffic. */
  private isOurs(address: CaptureAddress): boolean {
    if (address === this.lastTarget) return this.lastTargetIsOurs;
    this.lastTarget = address;
    this.lastTargetIsOurs = reachesOneOf(this.servers, address) || reachesOneOf(this.proxies, address);
    return this.lastTargetIsOurs;
  }

  /** A session's upstream socket sends to the server before the server can answer it: known by then. */
  private rememberProxyUpstream(local: Peer): void {
    if (this.proxyUpstreams.get(local.port) === local.address) return;
    this.proxyUpstreams.set(local.port, local.address);
    if (this.proxyUpstreams.size > REMEMBERED_SENDERS) this.proxyUpstreams.delete(this.proxyUpstreams.keys().next().value!);
  }

  private isProxyUpstream(peer: Peer): boolean {
    return this.proxyUpstreams.size > 0 && this.proxyUpstreams.get(peer.port) === peer.address;
  }
}

/**
 * Whether a datagram sent to `address` reaches one of these listening sockets: the same port and family (our
 * IPv6 sockets are IPv6-only), and the socket's own address, or, for one bound to every interface, an address of
 * this machine. Another program's socket on the same port number at another address or family is not ours.
 */
function reachesOneOf(sockets: ReadonlyMap<string, Peer>, address: CaptureAddress): boolean {
  for (const local of sockets.values()) {
    if (local.port !== address.port || familyOf(address.address) !== local.family) continue;
    if (local.address === address.address) return true;
    if (isWildcard(local.address) && isThisMachine(address.address)) return true;
  }
  return false;
}

function familyOf(address: string): 'IPv4' | 'IPv6' {
  return isIP(address.split('%')[0]) === 6 ? 'IPv6' : 'IPv4';
}

/** Loopback, or an address of one of this machine's interfaces. */
function isThisMachine(address: string): boolean {
  if (isLoopback(address)) return true;
  try {
    return Object.values(networkInterfaces()).some((infos) => infos?.some((info) => info.address === address));
  } catch {
    // No file descriptor left to list them: a wildcard server is taken to be the target, as a loopback one is.
    return true;
  }
}

/** A reply to a request forgotten long ago: its socket's address is unknown. */
function unknownSender(from: Peer): CaptureAddress {
  return { address: from.family === 'IPv6' ? '::' : '0.0.0.0', port: 0 };
}

function dropComment(event: DatagramDroppedEvent): string {
  return DROP_COMMENTS.get(event.reason) ?? `dropped: ${escapeText(event.reason)}`;
}

function proxyDropComment(event: ProxyDroppedEvent): string {
  return `dropped by the proxy (${describeProxyDropReason(event.reason)}, ${describeDirection(event.direction)})`;
}

/** The most telling of what the proxy did to this copy; the comment says all of it. */
function forwardFate(event: ProxyForwardedEvent): TrafficFate {
  if (event.corruptedBit !== undefined) return 'corrupted';
  return event.duplicate ? 'duplicated' : event.delayMs > 0 ? 'delayed' : 'forwarded';
}

/** Nearly every copy a proxy forwards: built once, not per datagram. */
const FORWARDED: Readonly<Record<Direction, string>> = {
  'to-server': `forwarded ${describeDirection('to-server')}`,
  'to-client': `forwarded ${describeDirection('to-client')}`,
};

function forwardComment(event: ProxyForwardedEvent): string {
  if (!event.duplicate && event.delayMs <= 0 && !event.reordered && event.corruptedBit === undefined && !event.duplicateWithheld) {
    return FORWARDED[event.direction];
  }
  return [
    `forwarded ${describeDirection(event.direction)}`,
    event.duplicate ? 'duplicate' : '',
    event.delayMs > 0 ? `delayed ${Math.round(event.delayMs)} ms` : '',
    event.reordered ? 'reordered (held back so later datagrams overtook it)' : '',
    event.corruptedBit !== undefined ? `corrupted (bit ${event.corruptedBit} flipped)` : '',
    event.duplicateWithheld ? DUPLICATE_WITHHELD : '',
  ]
    .filter(Boolean)
    .join('; ');
}

function burstPrefix(requestId: number): string {
  return `request ${requestId}#`;
}

function burstReplyComment(event: BurstReplyEvent): string {
  if (event.seq === undefined) return 'reply matching none of the burst’s datagrams';
  if (event.duplicate) return `another reply to burst datagram #${event.seq + 1}`;
  return `reply after ${formatMs(event.rttMs!)}`;
}

function replyFate(event: ReplySentEvent): TrafficFate {
  return event.duplicate ? 'duplicated' : event.delayMs > 0 ? 'delayed' : 'reply';
}

function replyComment(event: ReplySentEvent): string | undefined {
  // Nearly every reply: nothing to say, and nothing to build.
  if (!event.duplicate && event.delayMs === 0 && !event.reordered && !event.truncated) return undefined;
  const notes = [
    event.duplicate ? 'duplicate' : '',
    event.delayMs > 0 ? `delayed ${Math.round(event.delayMs)} ms` : '',
    event.reordered ? 'reordered (held back so later replies overtook it)' : '',
    event.truncated ? "cut to the request's size (amplification guard)" : '',
  ].filter(Boolean);
  return notes.length > 0 ? notes.join('; ') : undefined;
}
