// The child process that runs one server under test (forked by servers.ts): ours with everything the extension
// attaches, or the plainest Node echo. It answers the parent's 'sample' and 'stop' messages and nothing else.
import * as dgram from 'node:dgram';
import { Workbench } from '../src/core/workbench/workbench';
import type { FromServer, ServerConfig, ServerSample, ToServer } from './serverProtocol';
import { attachShippedViews } from './shippedViews';
import { StallWatch } from './stalls';

interface Running {
  readonly port: number;
  sample(): Omit<ServerSample, 'stalls'>;
}

/** A server of the workbench with everything activate() builds around it (shippedViews.ts). */
async function startOurs(config: ServerConfig): Promise<Running> {
  const workbench = new Workbench();
  const views = attachShippedViews(workbench, { log: config.log, trafficViewOpen: config.trafficViewOpen });
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
      log: { ...views.batcher.stats, lines: views.channel.lines, bytes: views.channel.bytes },
      capture: {
        recorded: views.counts.recorded,
        buffered: views.buffer.size,
        bytes: views.buffer.bytes,
        footprint: views.buffer.footprint,
      },
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
