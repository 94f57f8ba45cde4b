import { isWildcard } from './endpoint';
import { escapeText } from './escapeText';
import type { DatagramDroppedEvent, Peer, ReplySentEvent, WorkbenchEvent } from './events';
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
  /** Shared by a request and its replies: `serverId#seq` for a server's, `request N` for a send's. */
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
 * to it as a comment. A datagram a server received is held until the end of the turn it arrived in, because
 * the server decides then whether it drops it (the `dropped` event follows `received` at once); its comment
 * says so. A send from the workbench to one of its own servers is one datagram on the wire, recorded once,
 * by the server; the same holds for the reply.
 */
export class CaptureRecorder {
  private readonly servers = new Map<string, Peer>();
  /** Where each recent request was sent from: its reply goes there. Oldest forgotten first, beyond a bound. */
  private readonly senders = new Map<number, Peer>();
  private held: { serverId: string; seq: number; datagram: RecordedDatagram } | undefined;
  /** Recent requests by exchange, so their fate follows what happens to them. Oldest forgotten first, beyond a bound. */
  private readonly requests = new Map<string, RecordedDatagram>();
  private flushQueued = false;

  constructor(
    private readonly record: (datagram: RecordedDatagram) => void,
    private readonly now: MicrosecondClock = systemMicros,
  ) {}

  readonly add = (event: WorkbenchEvent): void => {
    if (event.kind === 'dropped' && this.held?.serverId === event.serverId && this.held.seq === event.seq) {
      const { datagram } = this.held;
      this.held = undefined;
      const dropped: RecordedDatagram = {
        ...datagram,
        comment: dropComment(event),
        fate: event.reason === 'rate-limited' ? 'rate-limited' : 'dropped',
      };
      this.remember(dropped);
      this.record(dropped);
      return;
    }
    this.flush();
    // Kinds added later (a proxy's, say) fall through every case: the record stays what the known kinds make it.
    switch (event.kind) {
      case 'server-started':
        this.servers.set(event.serverId, event.local);
        break;
      case 'server-stopped':
        this.servers.delete(event.serverId);
        break;
      case 'received': {
        const local = this.servers.get(event.serverId);
        if (local === undefined) break;
        const exchange = serverExchange(event.serverId, event.seq);
        const datagram: RecordedDatagram = {
          atMicros: this.now(),
          source: event.peer,
          destination: local,
          payload: event.payload,
          direction: 'in',
          fate: 'received',
          exchange,
        };
        this.held = { serverId: event.serverId, seq: event.seq, datagram };
        this.remember(datagram);
        if (!this.flushQueued) {
          this.flushQueued = true;
          queueMicrotask(() => {
            this.flushQueued = false;
            this.flush();
          });
        }
        break;
      }
      case 'replied': {
        const local = this.servers.get(event.serverId);
        if (local === undefined) break;
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
        if (!this.isOwnServer(event.target)) {
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
        if (this.isOwnServer(event.from)) break;
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
      // A later drop (a reply that could not be sent) leaves nothing on the wire: its request is recorded already, and marked.
      case 'dropped':
        this.settle(serverExchange(event.serverId, event.seq), event.reason === 'rate-limited' ? 'rate-limited' : 'dropped');
        break;
      case 'send-failed':
      case 'server-error':
        break;
    }
  };

  /** Records the datagram held back for its server's decision, if any. */
  flush(): void {
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    this.record(held.datagram);
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

  private rememberSender(requestId: number, local: Peer): void {
    this.senders.delete(requestId);
    this.senders.set(requestId, local);
    if (this.senders.size > REMEMBERED_SENDERS) this.senders.delete(this.senders.keys().next().value!);
  }

  private isOwnServer(address: CaptureAddress): boolean {
    for (const local of this.servers.values()) {
      if (local.port === address.port && (local.address === address.address || isWildcard(local.address))) return true;
    }
    return false;
  }
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

function clientExchange(requestId: number): string {
  return `request ${requestId}`;
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
