import { readFile } from 'node:fs/promises';
import type { EventSink, Peer } from './events';
import { dropsFor, parseProcNetUdp } from './procNetUdp';

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

export interface KernelDropOptions {
  readonly emit: EventSink;
  readonly intervalMs?: number;
  readonly read?: SocketTableReader;
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

/**
 * Samples the system's drop count of each watched server's socket and emits what is new. The timer runs only
 * while a server is watched; a sample reads the files asynchronously and never overlaps the next one. Where the
 * system gives no count, says so once (per workbench), instead of ever showing 0.
 */
export class KernelDropSampler {
  private readonly watched = new Map<string, { server: WatchedServer; reported: number; unavailable: boolean }>();
  private readonly intervalMs: number;
  private readonly read: SocketTableReader;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private saidUnavailable = false;

  constructor(private readonly options: KernelDropOptions) {
    this.intervalMs = options.intervalMs ?? KERNEL_DROPS_INTERVAL_MS;
    this.read = options.read ?? readProcNetUdp;
  }

  /** Drops of the socket before this call count too: it is the server's own, new socket. */
  watch(server: WatchedServer): void {
    this.watched.set(server.id, { server, reported: 0, unavailable: false });
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
    for (const entry of servers) {
      const { server } = entry;
      if (this.watched.get(server.id) !== entry) continue; // stopped while the files were read
      const total = sumOf(
        server.listeningOn.map((local) => tables.get(local.family) && dropsFor(tables.get(local.family)!, local.address, local.port)),
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

  private sayUnavailable(serverId: string): void {
    if (this.saidUnavailable) return;
    this.saidUnavailable = true;
    this.options.emit({ kind: 'kernel-drops-unavailable', at: Date.now(), serverId });
  }
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
