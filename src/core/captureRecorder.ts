import { isWildcard } from './endpoint';
import { escapeText } from './escapeText';
import type {
  BurstReplyEvent,
  DatagramDroppedEvent,
  Direction,
  Peer,
  ProxyDroppedEvent,
  ProxyForwardedEvent,
  ReplySentEvent,
  WorkbenchEvent,
} from './events';
import { describeDirection, describeProxyDropReason, DUPLICATE_WITHHELD } from './eventText';
import { formatMs } from './stats';
import type { CaptureAddress, CapturedDatagram } from './pcapng';
import type { TrafficDirection, TrafficFate } from '../webview/messages';

/** Microseconds since the Unix epoch, finer than Date.now(). */
export type MicrosecondClock = () => number;

/** Read once: the getter costs about as much as the clock itself, and the origin never changes. */
const timeOrigin = performance.timeOrigin;

export const systemMicros: MicrosecondClock = () => Math.round((timeOrigin + performance.now()) * 1000);

const REMEMBERED_SENDERS = 4096;

/** A recorded datagram with what the traffic view shows about it. */
export interface RecordedDatagram extends CapturedDatagram {
  readonly direction: TrafficDirection;
  fate: TrafficFate;
  /**
   * Shared by a request and its replies: `serverId#seq` for a server's, `request N` for a send's; by a datagram a
   * proxy received and the copies it forwarded: `proxyId→server#seq` or `proxyId→client#seq`.
   */
  readonly exchange: string;
}

/** Keyed by string: reasons added to DropReason later still get a comment, the generic one. */
const DROP_COMMENTS: ReadonlyMap<string, string> = new Map([
  ['simulated-loss-inbound', 'dropped by simulation (loss on the way in)'],
  ['simulated-loss-outbound', 'reply dropped by simulation (loss on the way out)'],
  ['rate-limited', 'rate-limited: dropped (this peer sent faster than the rate limit)'],
]);

/**
 * Turns the workbench's events into the datagrams that were on the wire, each with what the simulation did
 * to it as a comment. A datagram a server or proxy received is held until the end of the turn it arrived in,
 * because it is decided then whether it is dropped (the drop event follows at once); its comment says so. A
 * proxy's datagram is on the wire twice: as it reached the proxy, then as each copy left it for the other side.
 * A datagram between two of the workbench's own sockets is recorded once: by the proxy if one carried it (it
 * knows what the link did), else by the server; so a send to one of its own servers is recorded by the server,
 * and the same holds for the reply.
 */
export class CaptureRecorder {
  private readonly servers = new Map<string, Peer>();
  private readonly proxies = new Map<string, Peer>();
  /** The address of each recent session's upstream socket, by port: a server's traffic with it is the proxy's to record. */
  private readonly proxyUpstreams = new Map<number, string>();
  /** Where each recent request was sent from: its reply goes there. Oldest forgotten first, beyond a bound. */
  private readonly senders = new Map<number, Peer>();
  /** A received datagram waiting for the end of its turn, under its exchange. */
  private held: RecordedDatagram | undefined;
  /** Recent requests by exchange, so their fate follows what happens to them. Oldest forgotten first, beyond a bound. */
  private readonly requests = new Map<string, RecordedDatagram>();
  private flushQueued = false;

  constructor(
    private readonly record: (datagram: RecordedDatagram) => void,
    private readonly now: MicrosecondClock = systemMicros,
  ) {}

  readonly add = (event: WorkbenchEvent): void => {
    const held = this.held;
    if (held !== undefined && (event.kind === 'dropped' || event.kind === 'proxy-dropped') && held.exchange === dropExchange(event)) {
      this.held = undefined;
      const dropped: RecordedDatagram = {
        ...held,
        comment: event.kind === 'dropped' ? dropComment(event) : proxyDropComment(event),
        fate: event.reason === 'rate-limited' ? 'rate-limited' : 'dropped',
      };
      this.remember(dropped);
      this.record(dropped);
      return;
    }
    this.flush();
    // Kinds added later fall through every case: the record stays what the known kinds make it.
    switch (event.kind) {
      case 'server-started':
        this.servers.set(event.serverId, event.local);
        break;
      case 'server-stopped':
        this.servers.delete(event.serverId);
        break;
      case 'proxy-started':
        this.proxies.set(event.proxyId, event.local);
        break;
      case 'proxy-stopped':
        this.proxies.delete(event.proxyId);
        break;
      case 'received': {
        const local = this.servers.get(event.serverId);
        if (local === undefined || this.isProxyUpstream(event.peer)) break;
        this.hold(event.peer, local, event.payload, serverExchange(event.serverId, event.seq));
        break;
      }
      case 'proxy-received':
        this.hold(event.source, event.destination, event.payload, proxyExchange(event.proxyId, event.direction, event.seq));
        break;
      case 'forwarded': {
        if (event.direction === 'to-server') this.rememberProxyUpstream(event.source);
        const exchange = proxyExchange(event.proxyId, event.direction, event.seq);
        this.settle(exchange, 'forwarded');
        this.emit(
          {
            source: event.source,
            destination: event.destination,
            payload: event.payload,
            direction: 'out',
            fate: forwardFate(event),
            exchange,
          },
          forwardComment(event),
        );
        break;
      }
      // As for a server's: a drop after the turn (a copy that could not be sent, or was cancelled) only marks it.
      case 'proxy-dropped':
        this.settle(proxyExchange(event.proxyId, event.direction, event.seq), event.reason === 'rate-limited' ? 'rate-limited' : 'dropped');
        break;
      case 'replied': {
        const local = this.servers.get(event.serverId);
        if (local === undefined || this.isProxyUpstream(event.peer)) break;
        const exchange = serverExchange(event.serverId, event.seq);
        this.settle(exchange, 'replied');
        this.emit(
          { source: local, destination: event.peer, payload: event.payload, direction: 'out', fate: replyFate(event), exchange },
          replyComment(event),
        );
        break;
      }
      case 'sent':
        this.rememberSender(event.requestId, event.local);
        if (!this.isOwnServer(event.target) && !isOneOf(this.proxies, event.target)) {
          const sent = this.emit(
            {
              source: event.local,
              destination: event.target,
              payload: event.payload,
              direction: 'out',
              fate: 'sent',
              exchange: clientExchange(event.requestId),
            },
            event.attempt > 1 ? `attempt ${event.attempt}: sent again after no reply in time` : undefined,
          );
          this.remember(sent);
        }
        break;
      case 'reply':
        if (this.isOwnServer(event.from) || isOneOf(this.proxies, event.from)) break;
        this.settle(clientExchange(event.requestId), 'replied');
        this.emit(
          {
            source: event.from,
            destination: this.senders.get(event.requestId) ?? unknownSender(event.from),
            payload: event.payload,
            direction: 'in',
            fate: 'reply',
            exchange: clientExchange(event.requestId),
          },
          `reply after ${formatMs(event.rttMs)}`,
        );
        break;
      case 'timeout':
        this.settle(clientExchange(event.requestId), 'timed-out');
        break;
      case 'burst-sent':
        if (this.isOwnServer(event.target) || isOneOf(this.proxies, event.target)) break;
        this.remember(
          this.emit(
            {
              source: event.local,
              destination: event.target,
              payload: event.payload,
              direction: 'out',
              fate: 'sent',
              exchange: burstExchange(event.requestId, event.seq),
            },
            undefined,
          ),
        );
        break;
      case 'burst-reply': {
        if (this.isOwnServer(event.from) || isOneOf(this.proxies, event.from)) break;
        const exchange = event.seq === undefined ? clientExchange(event.requestId) : burstExchange(event.requestId, event.seq);
        if (event.seq !== undefined && !event.duplicate) this.settle(exchange, 'replied');
        this.emit(
          { source: event.from, destination: event.local, payload: event.payload, direction: 'in', fate: 'reply', exchange },
          burstReplyComment(event),
        );
        break;
      }
      case 'burst-finished':
        this.timeOutBurst(event.requestId);
        break;
      // A later drop (a reply that could not be sent) leaves nothing on the wire: its request is recorded already, and marked.
      case 'dropped':
        this.settle(serverExchange(event.serverId, event.seq), event.reason === 'rate-limited' ? 'rate-limited' : 'dropped');
        break;
      case 'send-failed':
      case 'server-error':
        break;
    }
  };

  /** Records the datagram held back for its server's or proxy's decision, if any. */
  flush(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    this.record(held);
  }

  /** A received datagram, recorded at the end of this turn unless a drop of it comes first. */
  private hold(source: Peer, destination: Peer, payload: Buffer, exchange: string): void {
    const datagram: RecordedDatagram = { atMicros: this.now(), source, destination, payload, direction: 'in', fate: 'received', exchange };
    this.held = datagram;
    this.remember(datagram);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  private emit(datagram: Omit<RecordedDatagram, 'atMicros' | 'comment'>, comment: string | undefined): RecordedDatagram {
    const atMicros = this.now();
    const recorded: RecordedDatagram = comment === undefined ? { atMicros, ...datagram } : { atMicros, ...datagram, comment };
    this.record(recorded);
    return recorded;
  }

  /**
   * What `remember` was told, oldest next, as a ring: asking the map for its oldest key instead takes an iterator
   * per datagram that walks past every key deleted before it, thousands under a flood.
   */
  private readonly rememberedOrder = new Array<RecordedDatagram | undefined>(REMEMBERED_SENDERS);
  private rememberedNext = 0;

  private remember(request: RecordedDatagram): void {
    const requests = this.requests;
    const oldest = this.rememberedOrder[this.rememberedNext];
    // Unless the same exchange was remembered again since (a drop, a retry): then that newer one stays.
    if (oldest !== undefined && requests.get(oldest.exchange) === oldest) requests.delete(oldest.exchange);
    requests.set(request.exchange, request);
    this.rememberedOrder[this.rememberedNext] = request;
    this.rememberedNext = (this.rememberedNext + 1) % REMEMBERED_SENDERS;
  }

  /** The request of an exchange learns its fate; a drop it was already marked with stays. */
  private settle(exchange: string, fate: TrafficFate): void {
    const request = this.requests.get(exchange);
    if (request !== undefined && request.fate !== 'dropped' && request.fate !== 'rate-limited') request.fate = fate;
  }

  /** A finished burst's datagrams that still wait for a reply, among those remembered, never get one. */
  private timeOutBurst(requestId: number): void {
    const prefix = `${clientExchange(requestId)}#`;
    for (const request of this.rememberedOrder) {
      if (request?.fate === 'sent' && request.exchange.startsWith(prefix)) request.fate = 'timed-out';
    }
  }

  private rememberSender(requestId: number, local: Peer): void {
    this.senders.delete(requestId);
    this.senders.set(requestId, local);
    if (this.senders.size > REMEMBERED_SENDERS) this.senders.delete(this.senders.keys().next().value!);
  }

  private isOwnServer(address: CaptureAddress): boolean {
    return isOneOf(this.servers, address);
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

/** Whether `address` reaches one of these listening sockets. */
function isOneOf(sockets: ReadonlyMap<string, Peer>, address: CaptureAddress): boolean {
  for (const local of sockets.values()) {
    if (local.port === address.port && (local.address === address.address || isWildcard(local.address))) return true;
  }
  return false;
}

/** A reply to a request forgotten long ago: its socket's address is unknown. */
function unknownSender(from: Peer): CaptureAddress {
  return { address: from.family === 'IPv6' ? '::' : '0.0.0.0', port: 0 };
}

function dropComment(event: DatagramDroppedEvent): string {
  return DROP_COMMENTS.get(event.reason) ?? `dropped: ${escapeText(event.reason)}`;
}

function serverExchange(serverId: string, seq: number): string {
  return `${serverId}#${seq}`;
}

function proxyExchange(proxyId: string, direction: Direction, seq: number): string {
  return `${proxyId}${direction === 'to-server' ? '→server' : '→client'}#${seq}`;
}

function dropExchange(event: DatagramDroppedEvent | ProxyDroppedEvent): string {
  return event.kind === 'dropped' ? serverExchange(event.serverId, event.seq) : proxyExchange(event.proxyId, event.direction, event.seq);
}

function proxyDropComment(event: ProxyDroppedEvent): string {
  return `dropped by the proxy (${describeProxyDropReason(event.reason)}, ${describeDirection(event.direction)})`;
}

/** The most telling of what the proxy did to this copy; the comment says all of it. */
function forwardFate(event: ProxyForwardedEvent): TrafficFate {
  if (event.corruptedBit !== undefined) return 'corrupted';
  return event.duplicate ? 'duplicated' : event.delayMs > 0 ? 'delayed' : 'forwarded';
}

function forwardComment(event: ProxyForwardedEvent): string {
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

function clientExchange(requestId: number): string {
  return `request ${requestId}`;
}

function burstExchange(requestId: number, seq: number): string {
  return `request ${requestId}#${seq + 1}`;
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
