import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { EchoServer } from '../../src/core/echoServer';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { Workbench } from '../../src/core/workbench';
import { leftOpen, openResourcesSoon } from './leaks';

const SAMPLE_MS = 50;
const FLOOD = 3000;

/**
 * Sends `count` datagrams from a child process while this process waits synchronously, so the server's
 * socket is not read at all and its small receive buffer overflows. Resolves with how many sends succeeded.
 */
function floodWhileBlocked(server: EchoServer, count: number): number {
  const script = `
    const dgram = require('node:dgram');
    const [family, host, port, count] = process.argv.slice(1);
    const socket = dgram.createSocket(family);
    const payload = Buffer.alloc(200, 0x61);
    let sent = 0, settled = 0;
    for (let i = 0; i < Number(count); i++) {
      socket.send(payload, Number(port), host, (error) => {
        if (!error) sent++;
        if (++settled === Number(count)) { process.stdout.write(String(sent)); socket.close(); }
      });
    }`;
  const family = server.local.family === 'IPv6' ? 'udp6' : 'udp4';
  const child = spawnSync(process.execPath, ['-e', script, family, server.local.address, String(server.local.port), String(count)], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(child.status, 0, child.stderr);
  return Number(child.stdout);
}

async function settle<T>(what: string, read: () => T, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (done(value)) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}; last seen ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Datagrams the system drops (Linux, real loopback sockets)', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`reports exactly sent − received as dropped by the system when a small receive buffer overflows, on ${host}`, async () => {
      const workbench = new Workbench({ kernelDrops: { intervalMs: SAMPLE_MS } });
      const events: WorkbenchEvent[] = [];
      workbench.events.subscribe((event) => events.push(event));
      try {
        const server = await workbench.startServer({ host, port: 0, replyMode: 'none', rateLimit: false, recvBufferSize: 4096 });
        const sent = floodWhileBlocked(server, FLOOD);
        assert.equal(sent, FLOOD, 'every send left the sender');
        const seen = await settle(
          'received + dropped by the system to add up to sent',
          () => ({ received: server.counters.received, kernel: workbench.totals.server.kernelDropped ?? -1 }),
          ({ received, kernel }) => received + kernel >= sent,
        );
        assert.ok(seen.kernel > 0, `the buffer overflowed: ${JSON.stringify(seen)}`);
        assert.equal(seen.kernel, sent - seen.received);
        const reports = events.filter((event) => event.kind === 'kernel-dropped');
        assert.equal(
          reports.reduce((sum, event) => sum + event.dropped, 0),
          seen.kernel,
          'each report carries only what is new',
        );
        assert.ok(reports.every((event) => event.serverId === server.id && event.receiveBufferBytes === server.buffers.receive));
      } finally {
        await workbench.dispose();
      }
    });
  }

  it('keeps the buffer sizes the system granted, which on Linux is double what was asked', async () => {
    const workbench = new Workbench();
    try {
      const server = await workbench.startServer({ host: '127.0.0.1', port: 0, recvBufferSize: 65_536, sendBufferSize: 32_768 });
      assert.deepEqual(server.buffers, { receive: 131_072, send: 65_536 });
      const defaults = await workbench.startServer({ host: '127.0.0.1', port: 0 });
      assert.ok(defaults.buffers.receive > 0 && defaults.buffers.send > 0);
    } finally {
      await workbench.dispose();
    }
  });

  it('refuses a buffer size that is not a whole number of bytes, leaving no socket open', async () => {
    const workbench = new Workbench();
    const before = await openResourcesSoon();
    try {
      await assert.rejects(workbench.startServer({ host: '127.0.0.1', port: 0, recvBufferSize: -5 }), {
        code: 'BAD_SETTING',
        message: /receive buffer size is -5/,
      });
      await assert.rejects(workbench.startServer({ host: '127.0.0.1', port: 0, sendBufferSize: 1.5 }), {
        code: 'BAD_SETTING',
        message: /send buffer size is 1\.5/,
      });
      assert.equal(workbench.runningServers.length, 0);
      // Both refusals come after the bind (Node sets buffers only on a bound socket): each must close what it bound.
      assert.deepEqual(await leftOpen(before, 'process'), []);
    } finally {
      await workbench.dispose();
    }
  });

  it('says once that the figure is not available where the system gives none, and samples only while a server runs', async () => {
    const reads: Array<Peer['family']> = [];
    const workbench = new Workbench({
      kernelDrops: { intervalMs: 10, read: (family) => (reads.push(family), Promise.resolve(undefined)) },
    });
    const events: WorkbenchEvent[] = [];
    workbench.events.subscribe((event) => events.push(event));
    try {
      const a = await workbench.startServer({ host: '127.0.0.1', port: 0 });
      const b = await workbench.startServer({ host: '::1', port: 0 });
      await settle(
        'a few samples',
        () => reads.length,
        (n) => n >= 6,
      );
      assert.ok(reads.includes('IPv4') && reads.includes('IPv6'));
      assert.equal(events.filter((event) => event.kind === 'kernel-drops-unavailable').length, 1);
      assert.equal(workbench.totals.server.kernelDropped, undefined);
      await workbench.stopServer(a.id);
      await workbench.stopServer(b.id);
      const afterStop = reads.length;
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(reads.length, afterStop, 'no sample once the last server stopped');
    } finally {
      await workbench.dispose();
    }
  });
});
