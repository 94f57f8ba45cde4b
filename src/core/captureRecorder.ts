import { isWildcard } from './endpoint';
import { escapeText } from './escapeText';
import type { DatagramDroppedEvent, Peer, ReplySentEvent, WorkbenchEvent } from './events';
import { formatMs } from './stats';
import type { CaptureAddress, CapturedDatagram } from './pcapng';

/** Microseconds since the Unix epoch, finer than Date.now(). */
export type MicrosecondClock = () => number;

/** Read once: the getter costs as much as the clock itself, and the origin never changes. */
const timeOrigin = performance.timeOrigin;

export const systemMicros: MicrosecondClock = () => Math.round((timeOrigin + performance.now()) * 1000);

/** Settled once; its then() is the cheapest way to run something at the end of the turn. */
const settled = Promise.resolve();

const REMEMBERED_SENDERS = 4096;

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
  /** The datagram held for its server's decision, in fields rather than an object of its own: one per datagram. */
  private heldServerId: string | undefined;
  private heldSeq = 0;
  private heldAtMicros = 0;
  private heldSource: CaptureAddress | undefined;
  private heldDestination: CaptureAddress | undefined;
  private heldPayload: Buffer | undefined;
  /** When the last datagram a server received was stamped: an undelayed reply to it leaves in the same turn. */
  private stampServerId: string | undefined;
  private stampSeq = 0;
  private stampMicros = 0;
  private flushQueued = false;
  private readonly flushLater = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  constructor(
    private readonly record: (datagram: CapturedDatagram) => void,
    private readonly now: MicrosecondClock = systemMicros,
  ) {}

  readonly add = (event: WorkbenchEvent): void => {
    if (event.kind === 'dropped' && this.heldServerId === event.serverId && this.heldSeq === event.seq) {
      this.recordHeld(dropComment(event));
      return;
    }
    this.flush();
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
        this.heldServerId = this.stampServerId = event.serverId;
        this.heldSeq = this.stampSeq = event.seq;
        this.heldAtMicros = this.stampMicros = this.now();
        this.heldSource = event.peer;
        this.heldDestination = local;
        this.heldPayload = event.payload;
        if (!this.flushQueued) {
          this.flushQueued = true;
          void settled.then(this.flushLater);
        }
        break;
      }
      case 'replied': {
        const local = this.servers.get(event.serverId);
        if (local === undefined) break;
        // The server answers an undelayed copy within the turn the request arrived in, so its stamp saves a clock read.
        const sameTurn = event.delayMs === 0 && event.seq === this.stampSeq && event.serverId === this.stampServerId;
        this.emit(local, event.peer, event.payload, replyComment(event), sameTurn ? this.stampMicros : this.now());
        break;
      }
      case 'sent':
        this.rememberSender(event.requestId, event.local);
        if (!this.isOwnServer(event.target)) {
          this.emit(event.local, event.target, event.payload, event.attempt > 1 ? `attempt ${event.attempt}: sent again after no reply in time` : undefined, this.now());
        }
        break;
      case 'reply':
        if (!this.isOwnServer(event.from)) this.emit(event.from, this.senders.get(event.requestId) ?? unknownSender(event.from), event.payload, `reply after ${formatMs(event.rttMs)}`, this.now());
        break;
      // A later drop (a reply that could not be sent) leaves nothing on the wire: its request is recorded already.
      case 'dropped':
      case 'timeout':
      case 'send-failed':
      case 'server-error':
        break;
    }
  };

  /** Records the datagram held back for its server's decision, if any. */
  flush(): void {
    if (this.heldServerId !== undefined) this.recordHeld(undefined);
  }

  private recordHeld(comment: string | undefined): void {
    const datagram = { atMicros: this.heldAtMicros, source: this.heldSource!, destination: this.heldDestination!, payload: this.heldPayload! };
    this.heldServerId = undefined;
    this.heldSource = this.heldDestination = this.heldPayload = undefined;
    this.record(comment === undefined ? datagram : { ...datagram, comment });
  }

  private emit(source: CaptureAddress, destination: CaptureAddress, payload: Buffer, comment: string | undefined, atMicros: number): void {
    this.record(comment === undefined ? { atMicros, source, destination, payload } : { atMicros, source, destination, payload, comment });
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
