// A flood from many source addresses against our server with the batched log attached, as a hostile network (or a
// hostile folder's log settings) would drive the extension host: how long its event loop stalls, and how much the
// log writes per second.
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { ServerUnderTest, type ServerSample } from './servers';
import type { ServerConfig } from './serverProtocol';

export interface SourceFloodOptions {
  /** Distinct source addresses, 127.0.1.1 upwards (Linux routes all of 127.0.0.0/8 to lo). */
  readonly sources: number;
  /** Bytes per datagram: random, so the log sees binary data. */
  readonly size: number;
  /** Whichever comes first ends the flood. */
  readonly durationMs: number;
  readonly maxDatagrams: number;
}

export interface SourceFlood {
  readonly sent: number;
  readonly durationMs: number;
  /** Of the sender (this process), % of one core. */
  readonly senderCpuPercent: number;
  /** What the server process counted, used and wrote over the flood; sent − received never reached it (kernel drops). */
  readonly received: number;
  readonly serverCpuPercent: number;
  readonly serverErrors: number;
  readonly logLinesPerSecond: number;
  readonly logBytesPerSecond: number;
  readonly flushesPerSecond: number;
  readonly notShown: number;
  readonly maxDelayMs: number;
  readonly maxTimerGapMs: number;
}

/** Sends in flight at once, and per turn of this process's event loop, so the sender never queues without bound. */
const WINDOW = 512;
const BATCH = 64;
const WARM_UP = { durationMs: 1000, datagrams: 20_000 };
/** The last datagrams and the batched log's last flush land within this. */
const SETTLE_MS = 500;

function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/** A fresh server process of ours with `config`, flooded from `options.sources` addresses. */
export async function floodFromSources(config: Omit<ServerConfig, 'kind'>, options: SourceFloodOptions): Promise<SourceFlood> {
  const server = await ServerUnderTest.start({ kind: 'ours', ...config });
  const sockets: dgram.Socket[] = [];
  try {
    for (let i = 0; i < options.sources; i++) sockets.push(await connectedFrom(sourceAddress(i), server.port));
    // Warm up first, as the extension host is by the time a flood comes: the first log lines pay one-off costs
    // (compiling, and ICU's number formatting data, some 60 ms) that are no stall of the log's making.
    await sendFrom(sockets, { ...options, durationMs: WARM_UP.durationMs, maxDatagrams: WARM_UP.datagrams });
    await settle();
    const before = await server.sample(false, true);
    const sending = await sendFrom(sockets, options);
    await settle();
    const after = await server.sample();
    return { ...sending, ...serverFigures(before, after, sending.durationMs + SETTLE_MS) };
  } finally {
    for (const socket of sockets) socket.close();
    await server.stop();
  }
}

/** 127.0.1.1 … 127.0.1.250, 127.0.2.1 …: no .0 or .255 in the last part. */
function sourceAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

function connectedFrom(address: string, port: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket('udp4');
  // Replies are read and thrown away; unread, they would only fill the socket's buffer.
  socket.on('message', () => undefined);
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, address, () => socket.connect(port, '127.0.0.1', () => resolve(socket)));
  });
}

function sendFrom(
  sockets: readonly dgram.Socket[],
  options: SourceFloodOptions,
): Promise<Pick<SourceFlood, 'sent' | 'durationMs' | 'senderCpuPercent'>> {
  const payload = randomBytes(options.size);
  const started = performance.now();
  const cpuAtStart = process.cpuUsage();
  let sent = 0;
  let inFlight = 0;
  return new Promise((resolve) => {
    const pump = (): void => {
      const elapsed = performance.now() - started;
      if (sent >= options.maxDatagrams || elapsed >= options.durationMs) {
        const cpu = process.cpuUsage(cpuAtStart);
        resolve({ sent, durationMs: elapsed, senderCpuPercent: ((cpu.user + cpu.system) / 1000 / elapsed) * 100 });
        return;
      }
      for (let batch = 0; batch < BATCH && inFlight < WINDOW && sent < options.maxDatagrams; batch++) {
        inFlight++;
        sockets[sent++ % sockets.length].send(payload, () => inFlight--);
      }
      setImmediate(pump);
    };
    pump();
  });
}

function serverFigures(
  before: ServerSample,
  after: ServerSample,
  durationMs: number,
): Omit<SourceFlood, 'sent' | 'durationMs' | 'senderCpuPercent'> {
  const seconds = durationMs / 1000;
  const log = { before: before.log!, after: after.log! };
  return {
    received: after.counters!.received - before.counters!.received,
    serverCpuPercent: ((after.cpuMicros - before.cpuMicros) / 1000 / durationMs) * 100,
    serverErrors: after.serverErrors! - before.serverErrors!,
    logLinesPerSecond: (log.after.lines - log.before.lines) / seconds,
    logBytesPerSecond: (log.after.bytes - log.before.bytes) / seconds,
    flushesPerSecond: (log.after.flushes - log.before.flushes) / seconds,
    notShown: log.after.notShown - log.before.notShown,
    maxDelayMs: after.stalls.maxDelayMs,
    maxTimerGapMs: after.stalls.maxTimerGapMs,
  };
}
