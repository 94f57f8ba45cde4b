/**
 * The listening sockets of this process's servers, group listeners and proxies, so that none of them ever answers
 * another (or itself).
 *
 * The rule: a server or a proxy's listen socket refuses every datagram whose source is a listening socket of ours.
 * Answering it would send our reply to a socket that answers (a server) or relays and later answers (a proxy's listen
 * socket) in turn, and one forged datagram would go round for ever: a server answering its own port over loopback,
 * two servers answering each other, a server and a proxy whose upstream it is (server → proxy → server). What is
 * left is sound: a proxy's session sockets are not listening sockets, so a server hears a proxy's clients through
 * them, and a session socket takes only its upstream's replies (anything else is 'not-from-upstream'); a proxy whose
 * upstream leads back to itself through our proxies is refused when it starts (see leadsTo).
 */
import type * as dgram from 'node:dgram';
import { isLoopback, isWildcard } from '../endpoint';
import { peerOf, type Peer } from '../events';
import { hostAddresses, type HostAddresses } from './hostAddresses';

/** What a socket does with a datagram: a server answers its source; a proxy's listen socket relays it to `upstream`. */
export type SocketRole = { readonly answers: true } | { readonly relaysTo: Peer };

interface OwnSocket {
  readonly local: Peer;
  readonly role: SocketRole;
  /** The server or proxy it belongs to. */
  readonly owner: object;
}

/** Our listening sockets by port. */
export class OwnSockets {
  private readonly byPort = new Map<number, OwnSocket[]>();

  constructor(private readonly host: HostAddresses = hostAddresses) {}

  /** Registers bound sockets of one server or proxy; the returned function removes them again. */
  add(owner: object, sockets: readonly dgram.Socket[], role: SocketRole): () => void {
    const added = sockets.map((socket) => ({ local: peerOf(socket.address()), role, owner }));
    for (const entry of added) this.byPort.set(entry.local.port, [...(this.byPort.get(entry.local.port) ?? []), entry]);
    return () => {
      for (const entry of added) {
        const left = (this.byPort.get(entry.local.port) ?? []).filter((other) => other !== entry);
        if (left.length > 0) this.byPort.set(entry.local.port, left);
        else this.byPort.delete(entry.local.port);
      }
    };
  }

  /** The source is one of our listening sockets: answering it would loop (see the rule above). */
  isOwn(source: Peer, at?: number): boolean {
    // Most sources' ports are none of ours: one map lookup decides.
    const candidates = this.byPort.get(source.port);
    return candidates !== undefined && this.find(source, candidates, at) !== undefined;
  }

  /**
   * Relaying to `target` reaches one of `listening` (a proxy's own listen sockets) again through our proxies: a proxy
   * whose upstream is itself, or proxies whose upstreams make a ring. Each would relay one datagram round for ever.
   */
  leadsTo(target: Peer, listening: readonly Peer[]): boolean {
    const self = listening.map((local) => ({ local, role: { answers: true } as const, owner: listening }));
    const seen = new Set<object>();
    for (let next: Peer | undefined = target; next !== undefined;) {
      if (this.find(next, self) !== undefined) return true;
      const reached = this.find(next, this.byPort.get(next.port) ?? []);
      if (reached === undefined || seen.has(reached.owner)) return false;
      seen.add(reached.owner);
      next = 'relaysTo' in reached.role ? reached.role.relaysTo : undefined;
    }
    return false;
  }

  /** Which of our sockets sends from, or is reached at, this address: its own, or any of this machine's for a wildcard. */
  private find(address: Peer, candidates: readonly OwnSocket[], at?: number): OwnSocket | undefined {
    return candidates.find(
      ({ local }) =>
        local.port === address.port &&
        local.family === address.family &&
        (local.address === address.address ||
          (isWildcard(local.address) && (isLoopback(address.address) || this.host.isOwn(address.address, at)))),
    );
  }
}

/** Every listening socket of this process. */
export const ownSockets = new OwnSockets();
