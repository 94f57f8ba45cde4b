// The child process that runs one server under test (forked by servers.ts): ours with everything the extension
// attaches, or the plainest Node echo. It answers the parent's 'sample' and 'stop' messages and nothing else.
import * as dgram from 'node:dgram';
import { CaptureBuffer } from '../src/core/captureBuffer';
import { CaptureRecorder } from '../src/core/captureRecorder';
import type { ReplyMode, ServerCounters } from '../src/core/echoServer';
import type { DescribeOptions } from '../src/core/eventText';
import type { SimulationSettings } from '../src/core/impairment';
import { DEFAULT_BATCHING, LogBatcher, type LogWriter } from '../src/core/logBatcher';
import { Workbench } from '../src/core/workbench';
import { CAPTURE_BUFFER_SIZE } from './servers';
import { StallWatch, type Stalls } from './stalls';

export type ServerKind = 'ours' | 'baseline';

export interface ServerConfig {
  readonly kind: ServerKind;
  readonly simulation?: SimulationSettings;
  /** Ours only: mirror unless given. */
  readonly replyMode?: ReplyMode;
  readonly template?: string;
  /** Ours only: the log settings; package.json's defaults unless given. */
  readonly log?: DescribeOptions;
  /**
   * Ours only: attach the capture recorder and its ring buffer, as the extension does while the traffic view or a
   * capture is open (true unless given). Issue #9's configuration is without it: workbench, events, counters, log.
   */
  readonly capture?: boolean;
}

export interface ServerSample {
  /** user + system CPU time of the server process so far, µs. */
  readonly cpuMicros: number;
  readonly memory: NodeJS.MemoryUsage;
  /** Ours only. */
  readonly counters?: ServerCounters;
  /** Ours only: errors the server survived (a reply too large to send, …). */
  readonly serverErrors?: number;
  /** Lines as the Output panel shows them (a hex dump is several), and their UTF-8 bytes. */
  readonly log?: { flushes: number; notShown: number; lines: number; bytes: number };
  /** Ours only: datagrams the capture recorder recorded, and those its ring buffer holds now. */
  readonly capture?: { recorded: number; buffered: number };
  /** The largest event-loop stalls since the last sample that asked to reset them. */
  readonly stalls: Stalls;
}

export type ToServer = { type: 'sample'; id: number; gc: boolean; resetStalls?: boolean } | { type: 'stop' };
export type FromServer =
  { type: 'ready'; port: number } | { type: 'sample'; id: number; sample: ServerSample } | { type: 'failed'; message: string };

/** Stands in for the LogOutputChannel: counts what is written and keeps the last lines, as OutputLog does. */
class MemoryChannel implements LogWriter {
  lines = 0;
  bytes = 0;
  private readonly recent: string[] = [];

  info = (text: string): void => this.write(text);
  warn = (text: string): void => this.write(text);
  error = (text: string): void => this.write(text);

  private write(text: string): void {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.lines++;
    this.lines++;
    this.bytes += Buffer.byteLength(text);
    this.recent.push(text);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
  }
}

interface Running {
  readonly port: number;
  sample(): Omit<ServerSample, 'stalls'>;
}

/**
 * What activate() builds around a server: the workbench (counters, event stream, kernel drop sampler), the batched
 * log sink, and the capture recorder feeding its ring buffer (as captureCommands.ts does, no capture file running).
 */
async function startOurs(config: ServerConfig): Promise<Running> {
  const workbench = new Workbench();
  const channel = new MemoryChannel();
  // previewBytes and hexDump: the defaults of package.json.
  const batcher = new LogBatcher(channel, { ...DEFAULT_BATCHING, previewBytes: 256, hexDump: 'auto', ...config.log });
  workbench.events.subscribe(batcher.add);
  const captureBuffer = new CaptureBuffer(CAPTURE_BUFFER_SIZE);
  let recorded = 0;
  if (config.capture !== false) {
    const recorder = new CaptureRecorder(captureBuffer, () => recorded++);
    workbench.events.subscribe(recorder.add);
  }
  let serverErrors = 0;
  workbench.events.subscribe((event) => void (event.kind === 'server-error' && serverErrors++));
  const server = await workbench.startServer({
    host: '127.0.0.1',
    port: 0,
    replyMode: config.replyMode ?? 'mirror',
    template: config.template,
    simulation: config.simulation,
  });
  return {
    port: server.local.port,
    sample: () => ({
      cpuMicros: cpuMicros(),
      memory: process.memoryUsage(),
      counters: server.counters,
      serverErrors,
      log: { ...batcher.stats, lines: channel.lines, bytes: channel.bytes },
      capture: config.capture === false ? undefined : { recorded, buffered: captureBuffer.size },
    }),
  };
}

/** The baseline of the issue, word for word. */
function startBaseline(): Promise<Running> {
  const socket = dgram.createSocket('udp4');
  socket.on('message', (m, r) => socket.send(m, r.port, r.address));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () =>
      resolve({ port: socket.address().port, sample: () => ({ cpuMicros: cpuMicros(), memory: process.memoryUsage() }) }),
    );
  });
}

function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

function send(message: FromServer): void {
  process.send!(message);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as ServerConfig;
  const running = config.kind === 'ours' ? await startOurs(config) : await startBaseline();
  const stalls = new StallWatch();
  process.on('message', (message: ToServer) => {
    if (message.type === 'stop') process.exit(0);
    if (message.gc) global.gc?.();
    send({ type: 'sample', id: message.id, sample: { ...running.sample(), stalls: stalls.read() } });
    if (message.resetStalls) stalls.reset();
  });
  // Never outlive the bench.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: running.port });
}

main().catch((error: unknown) => {
  send({ type: 'failed', message: String((error as Error)?.stack ?? error) });
  process.exit(1);
});
