import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { EchoServer } from '../../src/core/server/echoServer';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { Workbench } from '../../src/core/workbench/workbench';
import { leftOpen, openResourcesSoon } from './leaks';

const SAMPLE_MS = 50;
const FLOOD = 3000;

/**
 * Sends `count` datagrams from a child process while this process waits synchronously, so the server's
 * socket is not read at all and its small receive buffer overflows. Resolves with how many sends succeeded.
 */
function floodWhileBlocked(server: EchoServer, count: number, to?: { group: string; via: string }): number {
  const script = `
    const dgram = require('node:dgram');
    const [family, host, port, count, via] = process.argv.slice(1);
    const socket = dgram.createSocket(family);
    const payload = Buffer.alloc(200, 0x61);
    let sent = 0, settled = 0;
    if (via) { socket.bind(); socket.once('listening', () => socket.setMulticastInterface(via)); }
    for (let i = 0; i < Number(count); i++) {
      socket.send(payload, Number(port), host, (error) => {
        if (!error) sent++;
        if (++settled === Number(count)) { process.stdout.write(String(sent)); socket.close(); }
      });
    }`;
  const family = server.local.family === 'IPv6' ? 'udp6' : 'udp4';
  const destination = to
    ? [to.group, String(server.local.port), String(count), to.via]
    : [server.local.address, String(server.local.port), String(count)];
  const child = spawnSync(process.execPath, ['-e', script, family, ...destination], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.status, 0, child.stderr);
  return Number(child.stdout);
}

/**
 * Another program sharing a port, as a second listener of a group would: sockets with SO_REUSEADDR and a small
 * receive buffer that it never reads, one bound before the listener (it picks the port) and one after (listed first).
 */
async function otherProgram(group: string): Promise<{ port: number; bindAgain: () => Promise<void>; inodes: number[]; stop: () => void }> {
  const script = [
    'import os, socket, sys',
    'def bound(port):',
    '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    '    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
    '    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
    "    s.bind(('0.0.0.0', port))",
    `    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton('${group}') + socket.inet_aton('127.0.0.1'))`,
    '    print(s.getsockname()[1], os.fstat(s.fileno()).st_ino, flush=True)',
    '    return s',
    'first = bound(0)',
    'sys.stdin.readline()',
    'second = bound(first.getsockname()[1])',
    'sys.stdin.read()',
  ].join('\n');
  const child = spawn('python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'], timeout: 60_000 });
  const lines: Array<(line: string) => void> = [];
  let text = '';
  child.stdout.on('data', (data: Buffer) => {
    text += String(data);
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n')) {
      lines.shift()?.(text.slice(0, end));
      text = text.slice(end + 1);
    }
  });
  const nextLine = (): Promise<number[]> =>
    new Promise((resolve, reject) => {
      lines.push((line) => resolve(line.split(' ').map(Number)));
      child.once('exit', (code) => reject(new Error(`the other program exited (${code}) before binding`)));
    });
  const [port, firstInode] = await nextLine();
  const inodes = [firstInode];
  return {
    port,
    inodes,
    bindAgain: async () => {
      const next = nextLine();
      child.stdin.write('\n');
      inodes.push((await next)[1]);
    },
    stop: () => child.stdin.end(),
  };
}

/** What the system dropped for the socket with this inode, read from /proc/net/udp. */
function dropsOfInode(inode: number): number {
  const row = readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => Number(fields.at(-4)) === inode);
  assert.ok(row, `the other program's socket ${inode} is listed`);
  return Number(row.at(-1));
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

  it("counts only its own socket's drops when another program shares its port (SO_REUSEADDR) and overflows too", async () => {
    const workbench = new Workbench({ kernelDrops: { intervalMs: SAMPLE_MS } });
    const group = '239.255.77.1';
    const other = await otherProgram(group);
    try {
      const listener = await workbench.startServer({
        host: '0.0.0.0',
        port: other.port,
        replyMode: 'none',
        rateLimit: false,
        recvBufferSize: 65_536,
        groups: [{ group, interface: '127.0.0.1' }],
      });
      await other.bindAgain();
      const sent = floodWhileBlocked(listener, FLOOD, { group, via: '127.0.0.1' });
      assert.equal(sent, FLOOD, 'every send left the sender');
      const seen = await settle(
        "received + the listener's own drops to add up to sent",
        () => ({ received: listener.counters.received, kernel: workbench.totals.server.kernelDropped ?? -1 }),
        ({ received, kernel }) => received + kernel >= sent,
      );
      const othersDrops = other.inodes.map(dropsOfInode);
      assert.ok(
        othersDrops.every((drops) => drops > 0 && drops !== seen.kernel),
        `all overflowed, differently: ours ${seen.kernel}, theirs ${othersDrops.join(', ')}`,
      );
      assert.equal(seen.kernel, sent - seen.received, `ours, not the other program's ${othersDrops.join(' or ')}`);
    } finally {
      other.stop();
      await workbench.dispose();
    }
  });

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
