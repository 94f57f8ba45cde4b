// The impairment proxy against the plainest Node relay (one socket per client, `send` in the `message` handler),
// both in this process in front of the same echo server (a child process), measured in the same run and alternated.
import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { NO_LINK_IMPAIRMENT } from '../src/core/impairment/impairment';
import type { ImpairmentProxy } from '../src/core/impairment/impairmentProxy';
import { Workbench } from '../src/core/workbench/workbench';
import { median, percentile } from './report';
import { attachShippedViews } from './shippedViews';

const ECHO = `const s = require('node:dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(m, r.port, r.address));
s.bind(0, '127.0.0.1', () => console.log(s.address().port)); process.stdin.on('end', () => process.exit(0)); process.stdin.resume();`;
const ROUND_TRIP_TIMEOUT_MS = 1000;

export interface RelayFigures {
  readonly roundTripsPerSecond: number;
  readonly p50Ms: number;
  /** This process's CPU time (the client's and the relay's) per round trip answered, µs: steadier than the rate on a busy machine. */
  readonly cpuMicrosPerRoundTrip: number;
}

interface Relay {
  readonly port: number;
  stop(): Promise<void>;
}

/** The baseline: what anyone would write first. */
function plainRelay(upstreamPort: number): Promise<Relay> {
  const listener = dgram.createSocket('udp4');
  const sessions = new Map<string, dgram.Socket>();
  listener.on('message', (message, client) => {
    const key = `${client.address}|${client.port}`;
    let upstream = sessions.get(key);
    if (!upstream) {
      const socket = dgram.createSocket('udp4');
      socket.on('message', (reply) => listener.send(reply, client.port, client.address));
      sessions.set(key, (upstream = socket));
    }
    upstream.send(message, upstreamPort, '127.0.0.1');
  });
  return new Promise((resolve) =>
    listener.bind(0, '127.0.0.1', () =>
      resolve({
        port: listener.address().port,
        stop: async () => {
          for (const socket of sessions.values()) socket.close();
          await new Promise<void>((done) => listener.close(() => done()));
        },
      }),
    ),
  );
}

/** The proxy as shipped: started by a workbench with everything activate() builds around it (shippedViews.ts). */
async function ourProxy(upstreamPort: number, lossPercent = 0): Promise<Relay & { proxy: ImpairmentProxy }> {
  const link = { ...NO_LINK_IMPAIRMENT, loss: lossPercent / 100 };
  const workbench = new Workbench();
  const views = attachShippedViews(workbench);
  const proxy = await workbench.startProxy({
    host: '127.0.0.1',
    port: 0,
    upstreamHost: '127.0.0.1',
    upstreamPort,
    links: { toServer: { ...link, seed: 1 }, toClient: { ...link, seed: 2 } },
  });
  return {
    port: proxy.local.port,
    proxy,
    stop: async () => {
      await workbench.dispose();
      views.dispose();
    },
  };
}

/** `count` round trips from one client, `window` in flight; each lost one is given up after a timeout. */
function roundTrips(port: number, count: number, window: number): Promise<RelayFigures> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    let next = 0;
    let settled = 0;
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const send = (): void => {
      const id = next++;
      const payload = Buffer.alloc(64);
      payload.writeUInt32BE(id, 0);
      sentAt.set(id, performance.now());
      socket.send(payload, port, '127.0.0.1');
    };
    const done = (): void => {
      if (++settled === count) {
        clearInterval(sweep);
        socket.close();
        const seconds = (performance.now() - started) / 1000;
        const cpu = process.cpuUsage(cpuAtStart);
        rtts.sort((a, b) => a - b);
        resolve({
          roundTripsPerSecond: rtts.length / seconds,
          p50Ms: percentile(rtts, 50),
          cpuMicrosPerRoundTrip: (cpu.user + cpu.system) / rtts.length,
        });
      } else if (next < count) send();
    };
    socket.on('message', (reply) => {
      const at = sentAt.get(reply.readUInt32BE(0));
      if (at === undefined) return;
      sentAt.delete(reply.readUInt32BE(0));
      rtts.push(performance.now() - at);
      done();
    });
    const sweep = setInterval(() => {
      const now = performance.now();
      for (const [id, at] of sentAt) {
        if (now - at < ROUND_TRIP_TIMEOUT_MS) continue;
        sentAt.delete(id);
        done();
      }
    }, 100);
    socket.bind(0, '127.0.0.1', () => {
      for (let i = 0; i < Math.min(window, count); i++) send();
    });
  });
}

async function startEcho(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (data: Buffer) => resolve(Number(data.toString().trim())));
    child.once('exit', () => reject(new Error('the echo server for the proxy bench exited')));
  });
  return { port, child };
}

export interface ProxyBenchResult {
  readonly ours: RelayFigures;
  readonly baseline: RelayFigures;
  /** Ours / plain, one per round (each from two runs seconds apart), and their medians: what the targets hold. */
  readonly ratios: { readonly throughput: number[]; readonly p50: number[]; readonly cpu: number[] };
  readonly loss: {
    readonly setPercent: number;
    readonly toServerPercent: number;
    readonly toClientPercent: number;
    readonly toServerReceived: number;
    readonly toClientReceived: number;
  };
  readonly sessions: { readonly count: number; readonly heapAfterFirstBytes: number; readonly heapAfterSecondBytes: number };
}

/** Bounded: every round trip settles within its timeout, every phase has a fixed count. */
export async function proxyBench(
  options: { rounds: number; count: number; window: number; lossCount: number; lossPercent: number; sessions: number },
  log: (line: string) => void,
): Promise<ProxyBenchResult> {
  const echo = await startEcho();
  try {
    const ours: RelayFigures[] = [];
    const baseline: RelayFigures[] = [];
    for (let round = 1; round <= options.rounds; round++) {
      const contenders = [
        ['ours', ourProxy, ours],
        ['baseline', plainRelay, baseline],
      ] as const;
      // Which goes first alternates from round to round, so drift in a busy machine's speed falls on both alike.
      for (const [name, start, into] of round % 2 === 1 ? contenders : [...contenders].reverse()) {
        const relay = await start(echo.port);
        const figures = await roundTrips(relay.port, options.count, options.window);
        await relay.stop();
        into.push(figures);
        log(
          `round ${round} ${name}: ${Math.round(figures.roundTripsPerSecond)} round trips/s, p50 ${figures.p50Ms.toFixed(3)} ms, ${figures.cpuMicrosPerRoundTrip.toFixed(1)} µs CPU/round trip`,
        );
      }
    }
    const medianOf = (runs: RelayFigures[]): RelayFigures => ({
      roundTripsPerSecond: median(runs.map((r) => r.roundTripsPerSecond)),
      p50Ms: median(runs.map((r) => r.p50Ms)),
      cpuMicrosPerRoundTrip: median(runs.map((r) => r.cpuMicrosPerRoundTrip)),
    });
    const perRound = (pick: (a: RelayFigures, b: RelayFigures) => number): number[] => ours.map((run, i) => pick(run, baseline[i]));
    return {
      ours: medianOf(ours),
      baseline: medianOf(baseline),
      ratios: {
        throughput: perRound((a, b) => a.roundTripsPerSecond / b.roundTripsPerSecond),
        p50: perRound((a, b) => a.p50Ms / b.p50Ms),
        cpu: perRound((a, b) => b.cpuMicrosPerRoundTrip / a.cpuMicrosPerRoundTrip),
      },
      loss: await lossAccuracy(echo.port, options),
      sessions: await manySessions(echo.port, options.sessions),
    };
  } finally {
    echo.child.stdin!.end();
  }
}

/** Loss in each direction over what the proxy received in that direction. */
async function lossAccuracy(
  upstreamPort: number,
  options: { lossCount: number; lossPercent: number; window: number },
): Promise<ProxyBenchResult['loss']> {
  const relay = await ourProxy(upstreamPort, options.lossPercent);
  // Enough sent that each direction receives at least lossCount, whatever was lost on the way there.
  await roundTrips(relay.port, Math.ceil(options.lossCount / (1 - options.lossPercent / 100)) + 1000, 256);
  const { toServer, toClient } = relay.proxy.counters;
  await relay.stop();
  const percent = (c: typeof toServer): number => (100 * c.droppedBy['simulated-loss']) / c.received;
  return {
    setPercent: options.lossPercent,
    toServerPercent: percent(toServer),
    toClientPercent: percent(toClient),
    toServerReceived: toServer.received,
    toClientReceived: toClient.received,
  };
}

/** Heap after each client of `count` made a round trip, then again after each made another: flat means no growth per datagram. */
async function manySessions(upstreamPort: number, count: number): Promise<ProxyBenchResult['sessions']> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const relay = await ourProxy(upstreamPort);
  const clients = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<dgram.Socket>((resolve) => {
          const socket = dgram.createSocket('udp4');
          socket.bind(0, '127.0.0.1', () => resolve(socket));
        }),
    ),
  );
  // A hundred at a time: a thousand datagrams at once would overflow the listen socket's receive buffer.
  const everyoneOnce = async (): Promise<void> => {
    for (let from = 0; from < clients.length; from += 100) await hundredOnce(clients.slice(from, from + 100));
  };
  const hundredOnce = (some: dgram.Socket[]): Promise<unknown> =>
    Promise.all(
      some.map(
        (socket) =>
          new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ROUND_TRIP_TIMEOUT_MS * 3);
            socket.once('message', () => {
              clearTimeout(timer);
              resolve();
            });
            socket.send('hello', relay.port, '127.0.0.1');
          }),
      ),
    );
  const heap = (): number => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  await everyoneOnce();
  const heapAfterFirstBytes = heap();
  for (let i = 0; i < 5; i++) await everyoneOnce();
  const heapAfterSecondBytes = heap();
  const open = relay.proxy.sessionCount;
  for (const socket of clients) socket.close();
  await relay.stop();
  return { count: open, heapAfterFirstBytes, heapAfterSecondBytes };
}
