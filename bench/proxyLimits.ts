import { spawn, type ChildProcess } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { DEFAULT_DELAY_QUEUE } from '../src/core/impairment/delayedCopies';
import { NO_LINK_IMPAIRMENT } from '../src/core/impairment/impairment';
import { SIMULATION_LIMITS } from '../src/core/limits';
import { DEFAULT_MAX_SESSIONS } from '../src/core/impairment/impairmentProxy';
import { NamespacePair, namespacesUnavailable } from '../test/unit/netns';
import type { ProxySample } from './proxyProcess';
import { fmt } from './report';

const PROCESS = path.join(__dirname, 'proxyProcess.js');
const LINE_TIMEOUT_MS = 15_000;
/** The proxy's delay flood: 64 B from 127.0.0.1, 5,000 a second for 15 s; the cap (10,000) is full after 2 s. */
const DELAY_FLOOD = { size: 64, perSecond: 5000, durationMs: 15_000, sampleEveryMs: 3000 };
/** Kept memory may rise this much once the delay queue is full: flat (as the echo server's delay flood). */
const FLAT_RISE_BYTES = 4 * 1024 * 1024;
/** One remote address opens this many source ports, in runs of udpClients.py (select() takes fewer than 1,024). */
const EXHAUSTION = { ports: 1100, perRun: 275, localClients: 5 };

type CheckRecorder = (name: string, value: string, target: string, pass: boolean) => void;

/** A proxy process: `sample()` asks it for a ProxySample; `stop()` ends it. */
class ProxyUnderTest {
  private constructor(
    private readonly child: ChildProcess,
    private readonly lines: Interface,
    readonly port: number,
  ) {}

  static async start(options: object, prefix: readonly string[] = []): Promise<ProxyUnderTest> {
    const [command, ...args] = [...prefix, process.execPath, '--expose-gc', PROCESS, JSON.stringify(options)];
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! });
    try {
      const { port } = JSON.parse(await nextLine(lines)) as { port: number };
      return new ProxyUnderTest(child, lines, port);
    } catch (error) {
      child.kill();
      throw error;
    }
  }

  async sample(): Promise<ProxySample> {
    const line = nextLine(this.lines);
    this.child.stdin!.write('sample\n');
    return JSON.parse(await line) as ProxySample;
  }

  stop(): void {
    this.child.stdin!.end();
    setTimeout(() => this.child.kill(), 5000).unref();
  }
}

function nextLine(lines: Interface): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bench proxy said nothing within ${LINE_TIMEOUT_MS / 1000} s`)), LINE_TIMEOUT_MS);
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
}

export interface ProxyDelayFlood {
  readonly samples: ReadonlyArray<ProxySample & { atMs: number; sent: number }>;
}

/**
 * The proxy with the longest delay (a minute) towards the server, flooded from 127.0.0.1 for 15 s: no datagram
 * leaves, so without the cap every one would still be held. Paced, bounded in count and time, loopback only; the
 * upstream is a socket here that never hears anything before the proxy stops.
 */
export async function proxyDelayFlood(): Promise<ProxyDelayFlood> {
  const upstream = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', resolve));
  const links = { toServer: { ...NO_LINK_IMPAIRMENT, delayMs: SIMULATION_LIMITS.maxDelayMs }, toClient: NO_LINK_IMPAIRMENT };
  const proxy = await ProxyUnderTest.start({
    host: '127.0.0.1',
    port: 0,
    upstreamHost: '127.0.0.1',
    upstreamPort: upstream.address().port,
    links,
  });
  const socket = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => socket.connect(proxy.port, '127.0.0.1', resolve));
    const payload = Buffer.alloc(DELAY_FLOOD.size, 0x62);
    const samples: Array<ProxySample & { atMs: number; sent: number }> = [{ ...(await proxy.sample()), atMs: 0, sent: 0 }];
    const total = (DELAY_FLOOD.perSecond * DELAY_FLOOD.durationMs) / 1000;
    const started = performance.now();
    let sent = 0;
    let nextSample = DELAY_FLOOD.sampleEveryMs;
    while (sent < total) {
      const elapsed = performance.now() - started;
      for (const due = Math.min(total, Math.round((DELAY_FLOOD.perSecond * elapsed) / 1000)); sent < due; sent++) socket.send(payload);
      if (elapsed >= nextSample) {
        samples.push({ ...(await proxy.sample()), atMs: elapsed, sent });
        nextSample += DELAY_FLOOD.sampleEveryMs;
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    samples.push({ ...(await proxy.sample()), atMs: performance.now() - started, sent });
    return { samples };
  } finally {
    socket.close();
    upstream.close();
    proxy.stop();
  }
}

export interface SessionExhaustion {
  readonly skipped?: string;
  readonly remotePortsTried: number;
  readonly sessionsHeldByRemote: number;
  readonly localAnswered: number;
  readonly localSent: number;
}

/**
 * One address on another host (a network namespace made here) opens every source port it can towards a proxy with
 * the default session limit; then a client on the proxy's own host sends. Needs root on Linux; says why not, else.
 */
export async function sessionExhaustion(): Promise<SessionExhaustion> {
  const why = namespacesUnavailable();
  const empty = { remotePortsTried: 0, sessionsHeldByRemote: 0, localAnswered: 0, localSent: 0 };
  if (why !== undefined) return { skipped: why, ...empty };
  const pair = NamespacePair.create();
  const inNamespace = (host: typeof pair.server): string[] => ['ip', 'netns', 'exec', host.namespace];
  const [ip, ...echoArgs] = [...inNamespace(pair.server), 'python3', fixture('udpEcho.py'), '127.0.0.1', 'mirror'];
  const echo = spawn(ip, echoArgs, { stdio: ['pipe', 'pipe', 'inherit'] });
  let proxy: ProxyUnderTest | undefined;
  try {
    const echoPort = Number(await nextLine(createInterface({ input: echo.stdout! })));
    proxy = await ProxyUnderTest.start(
      { host: '0.0.0.0', port: 0, upstreamHost: '127.0.0.1', upstreamPort: echoPort, rateLimit: false },
      inNamespace(pair.server),
    );
    for (let opened = 0; opened < EXHAUSTION.ports; opened += EXHAUSTION.perRun) {
      await pythonClients(inNamespace(pair.peer), pair.server.ipv4, proxy.port, EXHAUSTION.perRun);
    }
    const held = (await proxy.sample()).sessions;
    const local = await pythonClients(inNamespace(pair.server), '127.0.0.1', proxy.port, EXHAUSTION.localClients);
    return { remotePortsTried: EXHAUSTION.ports, sessionsHeldByRemote: held, localAnswered: local, localSent: EXHAUSTION.localClients };
  } finally {
    proxy?.stop();
    echo.stdin!.end();
    await new Promise((resolve) => setTimeout(resolve, 300));
    echo.kill();
    pair.destroy();
  }
}

function fixture(name: string): string {
  return path.resolve(__dirname, '..', '..', 'test', 'unit', 'fixtures', name);
}

/** Runs udpClients.py: `clients` sockets, one datagram each; how many replies came back. */
function pythonClients(prefix: readonly string[], host: string, port: number, clients: number): Promise<number> {
  const [command, ...args] = [...prefix, 'python3', fixture('udpClients.py'), host, String(port), String(clients), '1', '0', '300'];
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], timeout: 60_000 });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve((JSON.parse(out) as { replies: unknown[] }).replies.length) : reject(new Error(`udpClients.py exited ${code}`)),
    );
  });
}

/** Both phases, printed and checked; what they measured, for the results file. */
export async function proxyLimitsPhase(
  check: CheckRecorder,
  log: (line: string) => void,
): Promise<{ delayFlood: ProxyDelayFlood; exhaustion: SessionExhaustion }> {
  const delayFlood = await proxyDelayFlood();
  const { samples } = delayFlood;
  for (const s of samples) {
    log(
      `${(s.atMs / 1000).toFixed(1).padStart(5)} s: sent ${fmt.int(s.sent)}, received ${fmt.int(s.counters.toServer.received)}, held ${fmt.int(s.counters.toServer.pending)}, delay-queue-full ${fmt.int(s.counters.toServer.droppedBy['delay-queue-full'])}, kept ${fmt.mb(s.keptBytes)}, RSS ${fmt.mb(s.rssBytes)}`,
    );
  }
  const last = samples[samples.length - 1];
  const full = samples.filter((s) => s.counters.toServer.pending >= DEFAULT_DELAY_QUEUE.maxReplies);
  const rise = full.length > 0 ? Math.max(...full.map((s) => s.keptBytes)) - full[0].keptBytes : NaN;
  check(
    'proxy delay flood: datagrams held',
    fmt.int(last.counters.toServer.pending),
    `≤ ${fmt.int(DEFAULT_DELAY_QUEUE.maxReplies)} (the cap)`,
    last.counters.toServer.pending <= DEFAULT_DELAY_QUEUE.maxReplies,
  );
  check(
    'proxy delay flood: rise once the queue is full',
    Number.isNaN(rise) ? 'queue never full' : fmt.signedMb(rise),
    `≤ ${fmt.mb(FLAT_RISE_BYTES)}`,
    rise <= FLAT_RISE_BYTES,
  );

  const exhaustion = await sessionExhaustion();
  if (exhaustion.skipped !== undefined) {
    log(`session exhaustion skipped: ${exhaustion.skipped}`);
    check('proxy session exhaustion: local client answered', 'not run', `${EXHAUSTION.localClients} of ${EXHAUSTION.localClients}`, false);
  } else {
    log(
      `one remote address tried ${fmt.int(exhaustion.remotePortsTried)} source ports against ${fmt.int(DEFAULT_MAX_SESSIONS)} sessions and holds ${fmt.int(exhaustion.sessionsHeldByRemote)}; a client on the proxy's host then got ${exhaustion.localAnswered} of ${exhaustion.localSent} answers`,
    );
    check(
      'proxy session exhaustion: local client answered',
      `${exhaustion.localAnswered} of ${exhaustion.localSent}`,
      `${exhaustion.localSent} of ${exhaustion.localSent}`,
      exhaustion.localAnswered === exhaustion.localSent,
    );
  }
  return { delayFlood, exhaustion };
}
