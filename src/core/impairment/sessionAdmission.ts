import type { EventSink, Peer, ProxyDropReason, SessionCap } from '../events';
import { PROXY_LIMITS } from '../limits';
import { isLocalSource } from '../net/sourceAddress';
import { peerKey } from '../net/rateLimit';

/** What admission reads of a session: whose it is and when it was last active. */
export interface AdmittedSession {
  /** The client's address (or IPv6 /64) when it is on another machine: what the per-address cap counts. */
  readonly remoteAddress: string | undefined;
  readonly lastActive: number;
}

/** Clients turned away that the log names, each address once; later ones are only counted. */
const MAX_NAMED_REFUSALS = 20;

/**
 * Who may open a session on the proxy. Clients on other machines may never take the share kept for this machine's,
 * nor one address (or IPv6 /64) more than its own share, so a flood of forged sources cannot lock the user out; a
 * client on this machine that finds the proxy full evicts the idlest remote session, never a local one. Each address
 * turned away is named in the log once, for the first few addresses; the rest are only counted.
 */
export class SessionAdmission<S extends AdmittedSession> {
  /** Sessions that clients on other machines may hold, all of them and per address (or IPv6 /64). */
  private readonly remoteLimit: number;
  private readonly addressLimit: number;
  private remoteSessions = 0;
  private readonly sessionsPerAddress = new Map<string, number>();
  /** Addresses a cap turned away that the log has named. */
  private readonly named = new Set<string>();

  constructor(
    private readonly maxSessions: number,
    /** The proxy's open sessions, which admission reads and never changes but through `evict`. */
    private readonly sessions: ReadonlyMap<string, S>,
    private readonly evict: (session: S) => void,
    private readonly proxyId: string,
    private readonly emit: EventSink | undefined,
  ) {
    this.remoteLimit = maxSessions - Math.floor(maxSessions * PROXY_LIMITS.loopbackShare);
    this.addressLimit = Math.max(1, Math.floor(maxSessions * PROXY_LIMITS.addressShare));
  }

  /**
   * Undefined when a new client may open a session. A client on this machine finds room while any session of a
   * client on another machine is left to evict (the idlest); one on another machine finds it only within its caps.
   */
  room(client: Peer, at: number): ProxyDropReason | undefined {
    if (isLocalSource(client, at)) {
      if (this.sessions.size < this.maxSessions) return undefined;
      const idlest = this.idlestRemoteSession();
      if (idlest === undefined) return this.turnAway(client, 'all', this.maxSessions, at);
      this.evict(idlest);
      return undefined;
    }
    if ((this.sessionsPerAddress.get(peerKey(client.address)) ?? 0) >= this.addressLimit) {
      return this.turnAway(client, 'per-address', this.addressLimit, at);
    }
    if (this.remoteSessions >= this.remoteLimit) return this.turnAway(client, 'remote', this.remoteLimit, at);
    if (this.sessions.size >= this.maxSessions) return this.turnAway(client, 'all', this.maxSessions, at);
    return undefined;
  }

  /** Counts a session opened for `client`; returns what its caps count it under (undefined: a client on this machine). */
  opened(client: Peer, at: number): string | undefined {
    if (isLocalSource(client, at)) return undefined;
    const address = peerKey(client.address);
    this.remoteSessions++;
    this.sessionsPerAddress.set(address, (this.sessionsPerAddress.get(address) ?? 0) + 1);
    return address;
  }

  closed(session: S): void {
    const address = session.remoteAddress;
    if (address === undefined) return;
    this.remoteSessions--;
    const left = this.sessionsPerAddress.get(address)! - 1;
    if (left === 0) this.sessionsPerAddress.delete(address);
    else this.sessionsPerAddress.set(address, left);
  }

  /** Names the client in the log the first time its address is turned away, for the first few addresses. */
  private turnAway(client: Peer, cap: SessionCap, limit: number, at: number): ProxyDropReason {
    const address = peerKey(client.address);
    if (this.named.size <= MAX_NAMED_REFUSALS && !this.named.has(address)) {
      this.named.add(address);
      const lastNamed = this.named.size > MAX_NAMED_REFUSALS;
      this.emit?.({ kind: 'session-limit', at, proxyId: this.proxyId, cap, limit, peer: client, lastNamed });
    }
    return 'session-limit';
  }

  /** Looks through every session: only when a client on this machine finds the proxy full. */
  private idlestRemoteSession(): S | undefined {
    let idlest: S | undefined;
    for (const session of this.sessions.values()) {
      if (session.remoteAddress !== undefined && (idlest === undefined || session.lastActive < idlest.lastActive)) idlest = session;
    }
    return idlest;
  }
}
