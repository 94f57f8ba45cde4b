/** This machine's own addresses and its networks' broadcast addresses, as a snapshot that follows interface changes. */
import { networkInterfaces } from 'node:os';
import { splitZone, fromNumber, toNumber, type InterfaceTable } from './groupAddress';

/** How old a snapshot may be before the next question takes a new one: interfaces change rarely, datagrams arrive often. */
const MAX_AGE_MS = 1000;

/**
 * Answers per datagram from a snapshot of os.networkInterfaces(), taken again when the last is older than a second:
 * listing the interfaces costs far more than a datagram, and no timer is left running between questions.
 */
export class HostAddresses {
  private own = new Set<string>();
  private broadcasts = new Set<string>();
  private takenAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly read: () => InterfaceTable = networkInterfaces) {}

  /** One of this machine's interface addresses (loopback's included; an IPv6 zone is ignored). */
  isOwn(address: string, at: number = Date.now()): boolean {
    this.refresh(at);
    return this.own.has(splitZone(address).bare);
  }

  /** The directed broadcast address of one of this machine's IPv4 networks (127.255.255.255 included). */
  isBroadcast(address: string, at: number = Date.now()): boolean {
    this.refresh(at);
    return this.broadcasts.has(address);
  }

  private refresh(at: number): void {
    if (at - this.takenAt < MAX_AGE_MS && at >= this.takenAt) return;
    this.takenAt = at;
    let table: InterfaceTable;
    try {
      table = this.read();
    } catch {
      // No file descriptor left to list them: keep what was known.
      return;
    }
    const own = new Set<string>();
    const broadcasts = new Set<string>();
    for (const info of Object.values(table).flatMap((infos) => infos ?? [])) {
      own.add(splitZone(info.address).bare);
      const broadcast = info.family === 'IPv4' ? broadcastOf(info.address, info.netmask) : undefined;
      if (broadcast !== undefined) broadcasts.add(broadcast);
    }
    this.own = own;
    this.broadcasts = broadcasts;
  }
}

/** A /31 or /32 network has no broadcast address (RFC 3021): its all-ones address is a host's. */
function broadcastOf(address: string, netmask: string): string | undefined {
  const mask = toNumber(netmask);
  const hostBits = ~mask >>> 0;
  return hostBits < 3 ? undefined : fromNumber((toNumber(address) | hostBits) >>> 0);
}

/** The one snapshot every server, listener and proxy of this process asks. */
export const hostAddresses = new HostAddresses();
