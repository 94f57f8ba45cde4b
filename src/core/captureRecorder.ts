import { isWildcard } from './endpoint';
import { escapeText } from './escapeText';
import type { DatagramDroppedEvent, Peer, ReplySentEvent, WorkbenchEvent } from './events';
import { formatMs } from './stats';
import type { CaptureAddress, CapturedDatagram } from './pcapng';

/** Microseconds since the Unix epoch, finer than Date.now(). */
export type MicrosecondClock = () => number;

export const systemMicros: MicrosecondClock = () => Math.round((performance.timeOrigin + performance.now()) * 1000);

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
  private held: { serverId: string; seq: number; datagram: CapturedDatagram } | undefined;
  private flushQueued = false;

  constructor(
    private readonly record: (datagram: CapturedDatagram) => void,
    private readonly now: MicrosecondClock = systemMicros,
  ) {}

  readonly add = (event: WorkbenchEvent): void => {
    if (event.kind === 'dropped' && this.held?.serverId === event.serverId && this.held.seq === event.seq) {
      const { datagram } = this.held;
      this.held = undefined;
      this.record({ ...datagram, comment: dropComment(event) });
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
        this.held = { serverId: event.serverId, seq: event.seq, datagram: { atMicros: this.now(), source: event.peer, destination: local, payload: event.payload } };
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
        if (local !== undefined) this.emit(local, event.peer, event.payload, replyComment(event));
        break;
      }
      case 'sent':
        this.rememberSender(event.requestId, event.local);
        if (!this.isOwnServer(event.target)) {
          this.emit(event.local, event.target, event.payload, event.attempt > 1 ? `attempt ${event.attempt}: sent again after no reply in time` : undefined);
        }
        break;
      case 'reply':
        if (!this.isOwnServer(event.from)) this.emit(event.from, this.senders.get(event.requestId) ?? unknownSender(event.from), event.payload, `reply after ${formatMs(event.rttMs)}`);
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
    const held = this.held;
    if (held === undefined) return;
    this.held = undefined;
    this.record(held.datagram);
  }

  private emit(source: CaptureAddress, destination: CaptureAddress, payload: Buffer, comment: string | undefined): void {
    this.record({ atMicros: this.now(), source, destination, payload, ...(comment === undefined ? {} : { comment }) });
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
  const notes = [
    event.duplicate ? 'duplicate' : '',
    event.delayMs > 0 ? `delayed ${Math.round(event.delayMs)} ms` : '',
    event.reordered ? 'reordered (held back so later replies overtook it)' : '',
    event.truncated ? "cut to the request's size (amplification guard)" : '',
  ].filter(Boolean);
  return notes.length > 0 ? notes.join('; ') : undefined;
}
