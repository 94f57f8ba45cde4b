import { readdir, readFile, readlink } from 'node:fs/promises';
import type { EventSink, Peer } from '../events';
import { inodesOn, parseProcNetUdp, socketInode, type ProcUdpSocket } from './procNetUdp';

/** A few samples a second: fresh enough to watch a flood, cheap enough to forget. */
export const KERNEL_DROPS_INTERVAL_MS = 250;

/** What the sampler needs of a server. */
export interface WatchedServer {
  readonly id: string;
  /** Every socket of the server: a server on `::` has an IPv4 one beside its IPv6 one. */
  readonly listeningOn: readonly Peer[];
  readonly buffers: { readonly receive: number };
}

/** The socket table for one address family as text, or undefined where the system has none to read. */
export type SocketTableReader = (family: Peer['family']) => Promise<string | undefined>;

/** The inodes of this process's open sockets, or undefined where the system does not list them. */
export type OwnSocketsReader = () => Promise<ReadonlySet<number> | undefined>;

export interface KernelDropOptions {
  readonly emit: EventSink;
  readonly intervalMs?: number;
  readonly read?: SocketTableReader;
  readonly readOwnSockets?: OwnSocketsReader;
}

/** Linux lists every UDP socket, with the datagrams dropped for it, in /proc/net/udp and /proc/net/udp6. */
export const readProcNetUdp: SocketTableReader = async (family) => {
  if (process.platform !== 'linux') return undefined;
  try {
    return await readFile(family === 'IPv6' ? '/proc/net/udp6' : '/proc/net/udp', 'utf8');
  } catch {
    return undefined;
  }
};

/** Each descriptor in /proc/self/fd that is a socket links to `socket:[inode]`. */
export const readOwnSocketInodes: OwnSocketsReader = async () => {
  if (process.platform !== 'linux') return undefined;
  try {
    const descriptors = await readdir('/proc/self/fd');
    // A descriptor closed between the listing and its readlink is no socket of ours any more.
    const links = await Promise.all(descriptors.map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
    return new Set(links.map(socketInode).filter((inode) => inode !== undefined));
  } catch {
    return undefined;
  }
};

/**
 * Samples the system's drop count of each watched server's socket and emits what is new. The timer runs only
 * while a server is watched; a sample reads the files asynchronously and never overlaps the next one. Where the
 * system gives no count, says so once (per workbench), instead of ever showing 0.
 */
export class KernelDropSampler {
  private readonly watched = new Map<string, WatchedEntry>();
  private readonly intervalMs: number;
  private readonly read: SocketTableReader;
  private readonly readOwnSockets: OwnSocketsReader;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private saidUnavailable = false;

  constructor(private readonly options: KernelDropOptions) {
    this.intervalMs = options.intervalMs ?? KERNEL_DROPS_INTERVAL_MS;
    this.read = options.read ?? readProcNetUdp;
    this.readOwnSockets = options.readOwnSockets ?? readOwnSocketInodes;
  }

  /** Drops of the socket before this call count too: it is the server's own, new socket. */
  watch(server: WatchedServer): void {
    this.watched.set(server.id, { server, reported: 0, unavailable: false, inodes: undefined });
    this.schedule();
  }

  /** Takes a last sample of the server (its socket must still be open), then stops watching it. */
  async unwatch(id: string): Promise<void> {
    if (!this.watched.has(id)) return;
    await this.sample();
    this.watched.delete(id);
    if (this.watched.size === 0) this.stopTimer();
  }

  /** Samples every watched server now; a sample already under way is waited for, then taken again. */
  async sample(): Promise<void> {
    while (this.sampling) await this.sampling;
    this.sampling = this.takeSample().finally(() => (this.sampling = undefined));
    await this.sampling;
  }

  /** What the system dropped for a watched server so far; undefined where the system does not say. */
  droppedFor(id: string): number | undefined {
    const entry = this.watched.get(id);
    return entry && !entry.unavailable ? entry.reported : undefined;
  }

  dispose(): void {
    this.watched.clear();
    this.stopTimer();
  }

  private schedule(): void {
    if (this.timer || this.watched.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.sample().finally(() => this.schedule());
    }, this.intervalMs);
    // Watching is no reason to keep a process alive; stopping the last server clears it anyway.
    this.timer.unref();
  }

  private stopTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async takeSample(): Promise<void> {
    const servers = [...this.watched.values()];
    const families = [...new Set(servers.flatMap(({ server }) => server.listeningOn.map((local) => local.family)))];
    const tables = new Map(await Promise.all(families.map(async (family) => [family, parseTable(await this.read(family))] as const)));
    // Only a server not yet matched to its sockets needs the list of ours: once a sample, not once a server.
    const own = servers.some((entry) => entry.inodes === undefined) ? await this.readOwnSockets() : undefined;
    for (const entry of servers) {
      const { server } = entry;
      if (this.watched.get(server.id) !== entry) continue; // stopped while the files were read
      if (entry.inodes === undefined && own !== undefined) entry.inodes = this.claim(server, tables, own);
      const inodes = entry.inodes;
      const total = sumOf(
        server.listeningOn.map((local, i) => tables.get(local.family)?.find((socket) => socket.inode === inodes?.[i])?.drops),
      );
      if (total === undefined) {
        entry.unavailable = true;
        this.sayUnavailable(server.id);
        continue;
      }
      if (total <= entry.reported) continue;
      const dropped = total - entry.reported;
      entry.reported = total;
      this.options.emit({
        kind: 'kernel-dropped',
        at: Date.now(),
        serverId: server.id,
        dropped,
        total,
        receiveBufferBytes: server.buffers.receive,
      });
    }
  }

  /**
   * The inode of each of the server's sockets: a socket of this process on its address and port that no other
   * watched server has. Another program's socket may share the port (SO_REUSEADDR), and its drops are not ours.
   * Should two of ours still be unmatched on one port (bound at once), the earlier-watched server takes the
   * earlier-bound socket, the last listed.
   */
  private claim(
    server: WatchedServer,
    tables: ReadonlyMap<Peer['family'], ProcUdpSocket[] | undefined>,
    own: ReadonlySet<number>,
  ): number[] | undefined {
    const taken = new Set([...this.watched.values()].flatMap((entry) => entry.inodes ?? []));
    const inodes: number[] = [];
    for (const local of server.listeningOn) {
      const table = tables.get(local.family);
      const inode =
        table &&
        inodesOn(table, local.address, local.port)
          .filter((candidate) => own.has(candidate) && !taken.has(candidate))
          .at(-1);
      // Not listed (yet): matched again at the next sample rather than held to a guess.
      if (inode === undefined) return undefined;
      taken.add(inode);
      inodes.push(inode);
    }
    return inodes;
  }

  private sayUnavailable(serverId: string): void {
    if (this.saidUnavailable) return;
    this.saidUnavailable = true;
    this.options.emit({ kind: 'kernel-drops-unavailable', at: Date.now(), serverId });
  }
}

interface WatchedEntry {
  readonly server: WatchedServer;
  reported: number;
  unavailable: boolean;
  /** Each listening socket's inode, in the order of `listeningOn`, once all are matched. */
  inodes: number[] | undefined;
}

function parseTable(text: string | undefined): ReturnType<typeof parseProcNetUdp> {
  return text === undefined ? undefined : parseProcNetUdp(text);
}

/** Undefined unless every socket's count is known: a partial sum would pass for the whole. */
function sumOf(counts: readonly (number | undefined)[]): number | undefined {
  let total = 0;
  for (const count of counts) {
    if (count === undefined) return undefined;
    total += count;
  }
  return total;
}
