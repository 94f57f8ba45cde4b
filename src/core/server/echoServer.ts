import * as dgram from 'node:dgram';
import { formatEndpoint, isLoopback, MAX_DATAGRAM_BYTES, parsePort } from '../endpoint';
import { badSetting, WorkbenchError } from '../errors';
import { familyNumber, peerOf, type DropReason, type EventSink, type Peer, type ServerConfiguration } from '../events';
import { Impairment, NO_SIMULATION, type ReplyCopy, type ReplyPlan } from '../impairment/impairment';
import { SERVER_LIMITS } from '../limits';
import { StopsOnce } from '../stopsOnce';
import { DEFAULT_DELAY_QUEUE, DelayedCopies, DelayQueueRoom, type DelayQueueLimits } from '../impairment/delayedCopies';
import { SendBatch } from './sendBatch';
import { bindListenSockets, closeSocket } from '../net/listenSockets';
import { ownSockets } from '../net/ownSockets';
import { isForgedSource, isLocalSource } from '../net/sourceAddress';
import { joinGroups, leaveGroups } from '../net/groupMembership';
import { DEFAULT_RATE_LIMIT, PeerRateLimiter } from '../net/rateLimit';
import { formatCount, plural } from '../stats';
import { compileTemplate, type CompiledTemplate } from './template';
import type { GroupMembership, RateLimitSettings, SimulationSettings } from '../configuration';
import type { ReplyMode, ServerProtection } from '../configuration';

export interface EchoServerOptions {
  host: string;
  /** 0 picks any free port. */
  port: number;
  replyMode?: ReplyMode;
  template?: string;
  simulation?: SimulationSettings;
  /** false turns rate limiting off. */
  rateLimit?: RateLimitSettings | false;
  /** Let replies to other machines be larger than their request, and simulated duplicates reach them. */
  allowAmplification?: boolean;
  /** Bounds the replies waiting for their simulated delay. */
  delayQueue?: DelayQueueLimits;
  /** Socket buffer sizes to ask the system for, in bytes; 0 or absent keeps the system's default. */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Multicast groups to join after binding (left on stop); the port is then shared with other listeners on this machine. */
  groups?: readonly GroupMembership[];
  emit?: EventSink;
  id?: string;
}

/**
 * Every received datagram ends up in exactly one of answered, dropped, rateLimited, listened or cancelled,
 * and is pending until then, so at every moment:
 *   received === answered + dropped + rateLimited + listened + cancelled + pending
 */
export interface ServerCounters {
  received: number;
  /** At least one copy of its reply was sent. */
  answered: number;
  /** Reply copies sent, duplicates included. */
  replies: number;
  /** Dropped for any reason but 'rate-limited'. */
  dropped: number;
  rateLimited: number;
  /** Received in 'none' mode. */
  listened: number;
  /** Its reply had not left yet when the server stopped. */
  cancelled: number;
  /** Its reply is waiting for its delay or for the socket. */
  pending: number;
  /** Simulated duplicates not sent: the peer is on another machine and amplification is not allowed. */
  duplicatesWithheld: number;
  bytesReceived: number;
  bytesSent: number;
  /** Every reason, 'rate-limited' included. */
  droppedBy: Record<DropReason, number>;
}

const REPLY_MODES: readonly ReplyMode[] = ['mirror', 'template', 'none'];

/** Socket buffer sizes in bytes as the system reports them (Linux reports twice what was asked, capped by its limit). */
export interface BufferSizes {
  readonly receive: number;
  readonly send: number;
}

let serversStarted = 0;

/** One datagram's reply on its way out, until each of its copies is sent, failed or cancelled. */
class OutgoingReply {
  delivered = false;
  failed = false;
  constructor(
    /** The socket the request came in on: the reply leaves from the address the peer sent to. */
    readonly socket: dgram.Socket,
    readonly plan: ReplyPlan,
    readonly request: Buffer,
    readonly payload: Buffer,
    readonly peer: Peer,
    readonly seq: number,
    readonly receivedAt: number,
    readonly truncated: boolean,
    public unsettled: number,
    /** Holds a place in the delay queue until it settles. */
    readonly delayed: boolean,
  ) {}
}

/**
 * A bound UDP port: receive → check the source → rate limit → impair → reply, with typed events and counters.
 * One socket, or two for `::` (see listenSockets.ts).
 */
export class EchoServer extends StopsOnce {
  private readonly count: ServerCounters = {
    received: 0,
    answered: 0,
    replies: 0,
    dropped: 0,
    rateLimited: 0,
    listened: 0,
    cancelled: 0,
    pending: 0,
    duplicatesWithheld: 0,
    bytesReceived: 0,
    bytesSent: 0,
    droppedBy: {
      'simulated-loss-inbound': 0,
      'simulated-loss-outbound': 0,
      'rate-limited': 0,
      'send-failed': 0,
      'forged-source': 0,
      'own-socket': 0,
      'delay-queue-full': 0,
    },
  };
  readonly id: string;
  readonly local: Peer;
  /** Bound to an address other machines can reach. */
  readonly exposed: boolean;
  /** Every bound socket's address: `local`, and for `::` the IPv4 socket beside it. */
  readonly listeningOn: readonly Peer[];
  /** As granted when the server started. */
  readonly buffers: BufferSizes;
  /** The multicast groups it joined. */
  readonly groups: readonly GroupMembership[];
  private readonly emit: EventSink | undefined;
  private mode: ReplyMode;
  private replyTemplate: string | undefined;
  private fillTemplate: CompiledTemplate | undefined;
  private impairment: Impairment;
  /** The per-peer limit, as configured; `limiter` when it applies to this server's peers. */
  private rateLimiter: PeerRateLimiter | undefined;
  private limiter: PeerRateLimiter | undefined;
  private guardAmplification = false;
  private protectionSettings: ServerProtection;
  /** Replies that wait for their simulated delay, and their bytes. */
  private readonly delayQueue: DelayQueueRoom;
  private readonly waiting = new DelayedCopies<OutgoingReply>();
  /** Every copy leaves through it, in the turn of the event loop that decided it (or whose timer ended its delay). */
  private readonly outbox = new SendBatch<OutgoingReply, ReplyCopy>((outgoing, copy) => this.send(outgoing, copy));
  private readonly sendCopy = (outgoing: OutgoingReply, copy: ReplyCopy): void => this.outbox.add(outgoing, copy);
  private drained: (() => void) | undefined;
  /** Takes its sockets off the list of ours (see ownSockets.ts). */
  private readonly forgetSockets: () => void;

  /** Binds its socket(s) and starts answering. Throws WorkbenchError; nothing is left open when it does. */
  static async start(options: EchoServerOptions): Promise<EchoServer> {
    const fillTemplate = checkReplySettings(options.replyMode ?? 'mirror', options.template);
    const impairment = new Impairment(options.simulation ?? NO_SIMULATION);
    const limiter = createLimiter(options.rateLimit);
    const delayQueue = checkDelayQueue(options.delayQueue ?? DEFAULT_DELAY_QUEUE);
    parsePort(options.port, { allowZero: true });
    const groups = options.groups ?? [];
    const sockets = await bindListenSockets(options.host, options.port, { reuseAddr: groups.length > 0 });
    try {
      for (const socket of sockets) applyBufferSizes(socket, options);
      joinGroups(sockets, groups);
    } catch (error) {
      await Promise.all(sockets.map(closeSocket));
      throw error;
    }
    return new EchoServer(sockets, options, { fillTemplate, impairment, limiter, delayQueue });
  }

  private constructor(
    /** The first is the one `local` describes. */
    private readonly sockets: readonly dgram.Socket[],
    options: EchoServerOptions,
    checked: {
      fillTemplate: CompiledTemplate | undefined;
      impairment: Impairment;
      limiter: PeerRateLimiter | undefined;
      delayQueue: DelayQueueLimits;
    },
  ) {
    super();
    this.listeningOn = sockets.map((socket) => peerOf(socket.address()));
    this.local = this.listeningOn[0];
    this.exposed = !isLoopback(this.local.address);
    this.buffers = { receive: sockets[0].getRecvBufferSize(), send: sockets[0].getSendBufferSize() };
    this.id = options.id ?? `udp-${++serversStarted}`;
    this.groups = options.groups ?? [];
    this.emit = options.emit;
    this.mode = options.replyMode ?? 'mirror';
    this.replyTemplate = options.template;
    this.fillTemplate = checked.fillTemplate;
    this.impairment = checked.impairment;
    this.delayQueue = new DelayQueueRoom(checked.delayQueue);
    this.protectionSettings = {
      rateLimit: options.rateLimit ?? DEFAULT_RATE_LIMIT,
      allowAmplification: options.allowAmplification ?? false,
    };
    this.protect(checked.limiter, this.protectionSettings.allowAmplification);
    this.forgetSockets = ownSockets.add(this, sockets, { answers: true });
    for (const socket of sockets) {
      socket.on('message', (request, peer) => this.onMessage(socket, request, peer));
      socket.on('error', this.onSocketError);
      socket.on('close', this.onSocketClosed);
    }
    this.emit?.({
      kind: 'server-started',
      at: Date.now(),
      serverId: this.id,
      local: this.local,
      exposed: this.exposed,
      ...this.groupsJoined(),
    });
  }

  /** A snapshot. */
  get counters(): ServerCounters {
    return { ...this.count, droppedBy: { ...this.count.droppedBy } };
  }

  get simulation(): SimulationSettings {
    return this.impairment.settings;
  }

  get replyMode(): ReplyMode {
    return this.mode;
  }

  get template(): string | undefined {
    return this.replyTemplate;
  }

  /** The per-peer rate limit and amplification rule, as configured. */
  get protection(): ServerProtection {
    return this.protectionSettings;
  }

  /** Applies at once to datagrams that arrive from now on, and restarts the random sequence from the seed. */
  configureSimulation(settings: SimulationSettings): void {
    this.impairment = new Impairment(settings);
    this.configured({ change: 'simulation', simulation: this.impairment.settings });
  }

  /** Applies at once; without a template, the current one is kept. */
  setReply(mode: ReplyMode, template = this.replyTemplate): void {
    this.fillTemplate = checkReplySettings(mode, template);
    this.mode = mode;
    this.replyTemplate = template;
    this.configured({ change: 'reply', replyMode: mode, template });
  }

  /** Applies a new per-peer rate limit (false: none) and amplification rule at once. */
  configureProtection(rateLimit: RateLimitSettings | false, allowAmplification: boolean): void {
    // The peers' buckets stay: a change of settings hands no peer a fresh burst.
    if (rateLimit !== false && this.rateLimiter !== undefined) this.rateLimiter.retune(rateLimit);
    this.protect(rateLimit === false ? undefined : (this.rateLimiter ?? createLimiter(rateLimit)), allowAmplification);
    this.protectionSettings = { rateLimit, allowAmplification };
    this.configured({ change: 'protection', rateLimit, allowAmplification });
  }

  private configured(configuration: ServerConfiguration): void {
    this.emit?.({ kind: 'server-configured', at: Date.now(), serverId: this.id, configuration });
  }

  private protect(limiter: PeerRateLimiter | undefined, allowAmplification: boolean): void {
    this.rateLimiter = limiter;
    // A loopback socket only hears this machine, so there a loopback exemption covers every peer.
    this.limiter = this.exposed || !limiter?.exemptLoopback ? limiter : undefined;
    this.guardAmplification = this.exposed && !allowAmplification;
  }

  /** Sends the replies it has decided, cancels those still waiting for their delay, leaves its groups and closes its sockets. */
  protected async shutDown(): Promise<void> {
    this.outbox.flush();
    this.waiting.cancelAll((outgoing) => this.copySettled(outgoing));
    leaveGroups(this.sockets, this.groups);
    await Promise.all(this.sockets.map(closeSocket));
    this.forgetSockets();
    // Sends the socket had queued report back (cancelled) after it closes.
    if (this.count.pending > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.emit?.({ kind: 'server-stopped', at: Date.now(), serverId: this.id, local: this.local, ...this.groupsJoined() });
  }

  /** Only a server that joined groups says so in its events. */
  private groupsJoined(): { groups?: readonly GroupMembership[] } {
    return this.groups.length > 0 ? { groups: this.groups } : {};
  }

  private onMessage(socket: dgram.Socket, request: Buffer, peer: dgram.RemoteInfo): void {
    const count = this.count;
    const seq = ++count.received;
    count.bytesReceived += request.length;
    const at = Date.now();
    // Counted before anyone hears of it, so a listener of 'received' already sees the counters add up.
    const outcome = this.classify(socket, request, peer, seq, at);
    this.emit?.({ kind: 'received', at, serverId: this.id, peer, payload: request, seq });
    if (outcome instanceof OutgoingReply) this.reply(outcome);
    else if (outcome !== 'listened') this.emitDrop(peer, request, seq, outcome, at);
  }

  /** Decides what becomes of a datagram and counts it; the events follow in onMessage. */
  private classify(socket: dgram.Socket, request: Buffer, peer: Peer, seq: number, at: number): OutgoingReply | DropReason | 'listened' {
    const count = this.count;
    if (isForgedSource(peer, at)) return this.countDrop('forged-source');
    if (ownSockets.isOwn(peer, at)) return this.countDrop('own-socket');
    if (this.limiter !== undefined && !this.limiter.allow(peer.address, at)) return this.countDrop('rate-limited');
    const impairment = this.impairment;
    if (impairment.dropsInbound()) return this.countDrop('simulated-loss-inbound');
    if (this.mode === 'none') {
      count.listened++;
      return 'listened';
    }
    const remote = this.guardAmplification && !isLocalSource(peer, at);
    const reply = this.mode === 'mirror' ? request : this.fillTemplate!({ payload: request, peer, seq });
    const payload = remote ? guardedReply(reply, request.length, peer.address) : reply;
    let plan = impairment.planReply();
    if (plan.dropped) return this.countDrop('simulated-loss-outbound');
    if (remote && plan.copies.length > 1) {
      count.duplicatesWithheld += plan.copies.length - 1;
      plan = { dropped: false, copies: plan.copies.slice(0, 1) };
    }
    // Without a simulation nothing is delayed: no need to look.
    const delayed = impairment.active && plan.copies.some((copy) => copy.delayMs > 0);
    if (delayed && !this.delayQueue.take(payload.length)) return this.countDrop('delay-queue-full');
    count.pending++;
    return new OutgoingReply(socket, plan, request, payload, peer, seq, at, payload !== reply, plan.copies.length, delayed);
  }

  private reply(outgoing: OutgoingReply): void {
    this.waiting.send(outgoing, outgoing.plan.copies, this.sendCopy);
  }

  private send(outgoing: OutgoingReply, copy: ReplyCopy): void {
    const { socket, payload, peer } = outgoing;
    // A crafted datagram from port 0 makes send() throw; that must not crash the process hosting the server.
    try {
      socket.send(payload, peer.port, peer.address, (error) => this.copySent(outgoing, copy, error));
    } catch (error) {
      this.copySent(outgoing, copy, error as Error);
    }
  }

  private copySent(outgoing: OutgoingReply, copy: ReplyCopy, error: Error | null): void {
    const { payload, peer, seq } = outgoing;
    if (error === null) {
      outgoing.delivered = true;
      this.count.replies++;
      this.count.bytesSent += payload.length;
      // An undelayed copy leaves within the same turn it arrived in: its receive time saves a clock read.
      const at = copy.delayMs === 0 ? outgoing.receivedAt : Date.now();
      const { delayMs, duplicate, reordered } = copy;
      this.emit?.({
        kind: 'replied',
        at,
        serverId: this.id,
        peer,
        payload,
        seq,
        delayMs,
        duplicate,
        reordered,
        truncated: outgoing.truncated,
      });
    } else if (!(this.stopping && (error as NodeJS.ErrnoException).code === 'ECANCELED')) {
      outgoing.failed = true;
      this.emit?.({
        kind: 'server-error',
        at: Date.now(),
        serverId: this.id,
        error: sendError(error as NodeJS.ErrnoException, peer, payload.length),
      });
    }
    this.copySettled(outgoing);
  }

  /** A copy was sent, failed or cancelled; the datagram's outcome is known once all its copies are. */
  private copySettled(outgoing: OutgoingReply): void {
    if (--outgoing.unsettled > 0) return;
    const count = this.count;
    count.pending--;
    if (outgoing.delayed) this.delayQueue.release(outgoing.payload.length);
    if (outgoing.delivered) count.answered++;
    else if (outgoing.failed) this.emitDrop(outgoing.peer, outgoing.request, outgoing.seq, this.countDrop('send-failed'), Date.now());
    else count.cancelled++;
    if (count.pending === 0) this.drained?.();
  }

  private countDrop(reason: DropReason): DropReason {
    const count = this.count;
    if (reason === 'rate-limited') count.rateLimited++;
    else count.dropped++;
    count.droppedBy[reason]++;
    return reason;
  }

  private emitDrop(peer: Peer, request: Buffer, seq: number, reason: DropReason, at: number): void {
    this.emit?.({ kind: 'dropped', at, serverId: this.id, peer, size: request.length, payload: request, seq, reason });
  }

  private readonly onSocketError = (error: NodeJS.ErrnoException): void => {
    this.emit?.({ kind: 'server-error', at: Date.now(), serverId: this.id, error: socketError(error, this.local) });
  };

  /** A socket closed by anything but stop() no longer hears its peers: say so, and stop the rest of the server. */
  private readonly onSocketClosed = (): void => {
    if (this.stopping !== undefined) return;
    const on = formatEndpoint(this.local);
    const error = new WorkbenchError(
      'SOCKET_CLOSED',
      `The socket of the echo server on ${on} was closed from outside the server, so the server has stopped.`,
      'Start it again.',
    );
    this.emit?.({ kind: 'server-error', at: Date.now(), serverId: this.id, error });
    void this.stop();
  };
}

/** Throws BAD_SETTING or BAD_TEMPLATE; in template mode, returns the template ready to fill in. */
function checkReplySettings(mode: ReplyMode, template: string | undefined): CompiledTemplate | undefined {
  if (!REPLY_MODES.includes(mode)) {
    throw new WorkbenchError(
      'BAD_SETTING',
      `Reply mode ${JSON.stringify(mode)} is unknown; it must be one of ${REPLY_MODES.join(', ')}.`,
      'Pick a reply mode in the settings.',
      {
        fix: 'open-settings',
      },
    );
  }
  if (mode !== 'template') return undefined;
  if (template === undefined) {
    throw new WorkbenchError(
      'BAD_TEMPLATE',
      'Reply mode "template" needs a template.',
      'Set the reply template, or pick another reply mode.',
      { fix: 'open-settings' },
    );
  }
  return compileTemplate(template);
}

/** Applied after bind: Node sets a socket's buffers only once it is bound. */
function applyBufferSizes(socket: dgram.Socket, options: EchoServerOptions): void {
  const sizes = [
    ['receive', options.recvBufferSize, (bytes: number) => socket.setRecvBufferSize(bytes)],
    ['send', options.sendBufferSize, (bytes: number) => socket.setSendBufferSize(bytes)],
  ] as const;
  for (const [which, bytes, apply] of sizes) {
    if (bytes === undefined || bytes === 0) continue;
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > SERVER_LIMITS.maxBufferBytes) {
      throw badSetting(
        `The ${which} buffer size`,
        bytes,
        `a whole number of bytes from 0 to ${formatCount(SERVER_LIMITS.maxBufferBytes)}`,
        '0 keeps the system default.',
        'open-settings',
      );
    }
    try {
      apply(bytes);
    } catch (error) {
      throw new WorkbenchError(
        'BAD_SETTING',
        `The system refused a ${which} buffer of ${plural(bytes, 'byte')}.`,
        'Ask for a smaller buffer; 0 keeps the system default.',
        {
          fix: 'open-settings',
          cause: error,
        },
      );
    }
  }
}

function sendError(error: NodeJS.ErrnoException, peer: Peer, size: number): WorkbenchError {
  const to = formatEndpoint(peer);
  const cause = error;
  switch (error.code) {
    case 'EMSGSIZE':
      return new WorkbenchError(
        'DATAGRAM_TOO_LARGE',
        `A reply of ${formatCount(size)} bytes to ${to} is too large for one datagram.`,
        `Shorten the reply template: a datagram carries at most ${formatCount(MAX_DATAGRAM_BYTES[familyNumber(peer)])} bytes. The server keeps listening.`,
        { fix: 'open-settings', cause },
      );
    case 'ENETUNREACH':
    case 'EHOSTUNREACH':
      return new WorkbenchError('NETWORK_UNREACHABLE', `Could not reply to ${to}: no route to it.`, 'The server keeps listening.', {
        cause,
      });
    default:
      return new WorkbenchError('SOCKET_ERROR', `Could not reply to ${to}: ${error.message}`, 'The server keeps listening.', { cause });
  }
}

function socketError(error: NodeJS.ErrnoException, local: Peer): WorkbenchError {
  const on = formatEndpoint(local);
  const cause = error;
  if (error.code === 'ECONNREFUSED' || error.code === 'ECONNRESET') {
    // Windows reports an ICMP "port unreachable" for an earlier reply as an error on the next receive.
    return new WorkbenchError(
      'CONNECTION_REFUSED',
      `A peer of ${on} refused a reply: nothing listens on its port any more.`,
      'The server keeps listening.',
      { cause },
    );
  }
  return new WorkbenchError('SOCKET_ERROR', `The socket on ${on} reported an error: ${error.message}`, 'The server keeps listening.', {
    cause,
  });
}

/**
 * The amplification guard: a reply to a peer on another machine is cut to its request's size, so a small
 * spoofed request cannot aim a large reply at someone else. A loopback peer is this machine: never cut.
 */
export function guardedReply(reply: Buffer, requestSize: number, peerAddress: string): Buffer {
  return reply.length > requestSize && !isLoopback(peerAddress) ? reply.subarray(0, requestSize) : reply;
}

function checkDelayQueue(limits: DelayQueueLimits): DelayQueueLimits {
  for (const field of ['maxReplies', 'maxBytes'] as const) {
    const value = limits[field];
    if (!(Number.isSafeInteger(value) && value >= 0)) {
      throw badSetting(`Delay queue setting ${field}`, value, 'a whole number from 0 up', 'Correct the delay queue limits.');
    }
  }
  return limits;
}

function createLimiter(settings: RateLimitSettings | false | undefined): PeerRateLimiter | undefined {
  return settings === false ? undefined : new PeerRateLimiter(settings ?? DEFAULT_RATE_LIMIT);
}
