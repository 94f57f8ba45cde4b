import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureBuffer, RECORD_OVERHEAD_BYTES, type RecordedDatagram } from '../../src/core/capture/captureBuffer';
import { CaptureFile, saveCapture } from '../../src/core/capture/captureFile';
import { CaptureRecorder } from '../../src/core/capture/captureRecorder';
import * as dgram from 'node:dgram';
import { NO_LINK_IMPAIRMENT, NO_SIMULATION } from '../../src/core/impairment/impairment';
import { DEFAULT_BATCHING, LogBatcher } from '../../src/core/log/logBatcher';
import { Workbench } from '../../src/core/workbench/workbench';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { captureHeader, packetBlock, type CapturedDatagram } from '../../src/core/capture/pcapng';
import type { WorkbenchError } from '../../src/core/errors';
import { rejection } from './assertions';
import { client, dropped, received, replied, sent, server, started } from './serverEvents';
import type { SimulationSettings } from '../../src/core/configuration';

/** A recorder into a buffer, as the extension wires them; `seen` is what the buffer holds, oldest first. */
function recorder(): { add: (event: WorkbenchEvent) => void; flush: () => void; readonly seen: RecordedDatagram[] } {
  const buffer = new CaptureBuffer(10_000);
  let clock = 1_000_000;
  const r = new CaptureRecorder(buffer, undefined, () => clock++);
  r.add(started);
  return {
    add: r.add,
    flush: () => r.flush(),
    get seen() {
      return buffer.datagrams();
    },
  };
}

const summary = (seen: readonly CapturedDatagram[]): string[] =>
  seen.map((d) => `${d.source.port}>${d.destination.port} ${d.payload.toString()}${d.comment === undefined ? '' : ` [${d.comment}]`}`);

describe('CaptureRecorder', () => {
  it('marks a datagram the server dropped on arrival, and one whose reply it dropped, on the datagram itself', () => {
    const r = recorder();
    r.add(received(1));
    r.add(dropped(1, 'simulated-loss-inbound'));
    r.add(received(2));
    r.add(dropped(2, 'simulated-loss-outbound'));
    r.add(received(3));
    r.add(dropped(3, 'rate-limited'));
    assert.deepEqual(summary(r.seen), [
      '50000>12345 d1 [dropped by simulation (loss on the way in)]',
      '50000>12345 d2 [reply dropped by simulation (loss on the way out)]',
      '50000>12345 d3 [rate-limited: dropped (this peer sent faster than the rate limit)]',
    ]);
  });

  it('says what the simulation did to each reply copy', () => {
    const r = recorder();
    r.add(received(1));
    r.add(replied(1));
    r.add(replied(1, { duplicate: true, delayMs: 48.2 }));
    r.add(received(2));
    r.add(replied(2, { reordered: true, truncated: true }));
    assert.deepEqual(summary(r.seen), [
      '50000>12345 d1',
      '12345>50000 r1',
      '12345>50000 r1 [duplicate; delayed 48 ms]',
      '50000>12345 d2',
      "12345>50000 r2 [reordered (held back so later replies overtook it); cut to the request's size (amplification guard)]",
    ]);
  });

  it('comments a drop reason it does not know generically, escaped', () => {
    const r = recorder();
    r.add(received(1));
    r.add(dropped(1, 'blocked\nby-\u202epolicy'));
    assert.deepEqual(summary(r.seen), ['50000>12345 d1 [dropped: blocked\\nby-\\u202epolicy]']);
  });

  it('records a datagram nobody drops at the end of the turn it arrived in, and a late drop adds no packet', async () => {
    const r = recorder();
    r.add(received(1));
    assert.equal(r.seen.length, 0, 'held for the server to decide');
    await Promise.resolve();
    assert.deepEqual(summary(r.seen), ['50000>12345 d1']);
    r.add(dropped(1, 'send-failed'));
    assert.equal(r.seen.length, 1);
  });

  it('records a send to one of its own servers once, by the server, and a send elsewhere from the client side', () => {
    const r = recorder();
    const target: Peer = { ...server };
    r.add({ kind: 'sent', at: 0, requestId: 1, target, payload: Buffer.from('d1'), attempt: 1, local: client });
    r.add(received(1));
    r.add(replied(1));
    r.add({ kind: 'reply', at: 0, requestId: 1, target, payload: Buffer.from('r1'), attempt: 1, rttMs: 0.5, from: server });
    const elsewhere: Peer = { address: '127.0.0.1', port: 9, family: 'IPv4' };
    r.add({ kind: 'sent', at: 0, requestId: 2, target: elsewhere, payload: Buffer.from('x'), attempt: 1, local: client });
    r.add({ kind: 'timeout', at: 0, requestId: 2, target: elsewhere, attempt: 1, timeoutMs: 100, willRetry: true });
    r.add({ kind: 'sent', at: 0, requestId: 2, target: elsewhere, payload: Buffer.from('x'), attempt: 2, local: client });
    r.add({ kind: 'reply', at: 0, requestId: 2, target: elsewhere, payload: Buffer.from('y'), attempt: 2, rttMs: 1.234, from: elsewhere });
    assert.deepEqual(summary(r.seen), [
      '50000>12345 d1',
      '12345>50000 r1',
      '50000>9 x',
      '50000>9 x [attempt 2: sent again after no reply in time]',
      '9>50000 y [reply after 1.23 ms]',
    ]);
  });

  it('follows the fate of the 4,096 most recent requests, a request sent again as its newest attempt', () => {
    const buffer = new CaptureBuffer(10_000);
    const r = new CaptureRecorder(buffer, undefined, () => 0);
    r.add(started);
    const elsewhere: Peer = { address: '127.0.0.1', port: 9, family: 'IPv4' };
    r.add(sent(1, elsewhere, client));
    // The second attempt 100 requests later: past 4,096 more the first attempt's place goes, the second stays.
    for (let seq = 1; seq <= 4096; seq++) {
      r.add(received(seq));
      if (seq === 100) r.add(sent(2, elsewhere, client));
    }
    r.add({ kind: 'reply', at: 0, requestId: 7, target: elsewhere, payload: Buffer.from('y'), attempt: 2, rttMs: 1, from: elsewhere });
    r.add(replied(1));
    r.add(replied(3));
    r.flush();
    const seen = buffer.datagrams();
    const fate = (text: string): string[] => seen.filter((d) => d.payload.toString() === text && d.direction !== 'in').map((d) => d.fate);
    assert.deepEqual(fate('x'), ['sent', 'replied']);
    const request = (seq: number): RecordedDatagram => seen.find((d) => d.direction === 'in' && d.payload.toString() === `d${seq}`)!;
    assert.equal(request(1).fate, 'received', 'forgotten: beyond the 4,096 most recent');
    assert.equal(request(3).fate, 'replied');
  });

  it('treats a server bound to every interface as the target of a send to its port', () => {
    const buffer = new CaptureBuffer(10);
    const r = new CaptureRecorder(buffer);
    r.add({ ...started, local: { address: '0.0.0.0', port: 12345, family: 'IPv4' } } as WorkbenchEvent);
    r.add({ kind: 'sent', at: 0, requestId: 1, target: server, payload: Buffer.from('d1'), attempt: 1, local: client });
    assert.equal(buffer.added, 0);
  });

  it('stamps a datagram as its event arrives, before the work it sets off for the one before (a capture file write)', () => {
    // A slow listener: writing a datagram to a file takes 1,000 µs of this clock. A received datagram is written when
    // the next event shows no drop follows it, so the next datagram's stamp must not wait for that write.
    let now = 0;
    const buffer = new CaptureBuffer(10);
    const r = new CaptureRecorder(
      buffer,
      () => void (now += 1000),
      () => now,
    );
    r.add(started);
    r.add(received(1));
    r.add(received(2));
    r.flush();
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [0, 0],
      'the second datagram arrived at 0 µs, before the first one was written',
    );
  });

  it('stamps each datagram with its clock, in microseconds', () => {
    const r = recorder();
    r.add(received(1));
    r.add(replied(1));
    assert.deepEqual(
      r.seen.map((d) => d.atMicros),
      [1_000_000, 1_000_001],
    );
  });
});

describe('CaptureRecorder on a real server', () => {
  const simulations: Record<string, SimulationSettings> = {
    'no simulation': NO_SIMULATION,
    'drops, duplicates and jitter': { ...NO_SIMULATION, seed: 3, dropInbound: 0.2, dropOutbound: 0.1, duplicate: 0.2, jitterMs: 3 },
  };
  for (const [name, simulation] of Object.entries(simulations)) {
    for (const host of ['127.0.0.1', '::1']) {
      it(`records every datagram, and counts, events and log entries add up: ${name}, ${host}`, async () => {
        const workbench = new Workbench();
        const events = new Map<string, number>();
        workbench.events.subscribe((event) => void events.set(event.kind, (events.get(event.kind) ?? 0) + 1));
        const lines: string[] = [];
        const write = (text: string): void => void lines.push(text);
        const batcher = new LogBatcher(
          { info: write, warn: write, error: write },
          { ...DEFAULT_BATCHING, maxEventsPerFlush: 50, previewBytes: 64, hexDump: 'never' },
        );
        workbench.events.subscribe(batcher.add);
        const buffer = new CaptureBuffer(10_000);
        const recorder = new CaptureRecorder(buffer);
        workbench.events.subscribe(recorder.add);
        const server = await workbench.startServer({ host, port: 0, simulation });
        const client = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
        const sent = 300;
        try {
          await new Promise<void>((resolve) => client.bind(0, host, resolve));
          for (let n = 0; n < sent; n++) {
            client.send(`datagram ${n}`, server.local.port, host);
            if (n % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 5));
          }
          for (let waited = 0; (server.counters.received < sent || server.counters.pending > 0) && waited < 5000; waited += 10) {
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          const c = server.counters;
          assert.equal(c.received, sent);
          assert.equal(c.received, c.answered + c.dropped + c.rateLimited + c.listened + c.cancelled + c.pending);
          if (simulation === NO_SIMULATION) assert.deepEqual([c.answered, c.replies, c.dropped], [sent, sent, 0]);
          else {
            assert.ok(
              c.dropped > 0 && c.replies > c.answered,
              `the simulation dropped ${c.dropped} and duplicated ${c.replies - c.answered}`,
            );
          }
          assert.deepEqual(
            [events.get('received'), events.get('replied') ?? 0, events.get('dropped') ?? 0],
            [c.received, c.replies, c.dropped],
          );
          assert.deepEqual(workbench.totals.server, { received: c.received, replies: c.replies, dropped: c.dropped, kernelDropped: 0 });

          recorder.flush();
          const captured = buffer.datagrams();
          assert.equal(captured.length, c.received + c.replies, 'every request and every reply copy');
          const requests = captured.filter((d) => d.destination.port === server.local.port);
          assert.deepEqual(
            requests.map((d) => d.payload.toString()).sort(),
            Array.from({ length: sent }, (_, n) => `datagram ${n}`).sort(),
          );
          assert.equal(requests.filter((d) => d.comment !== undefined).length, c.dropped);
          assert.equal(captured.filter((d) => d.comment?.startsWith('duplicate')).length, c.replies - c.answered);
          for (let i = 1; i < captured.length; i++) assert.ok(captured[i].atMicros >= captured[i - 1].atMicros, 'stamps never go back');

          batcher.flush();
          const notShown = lines
            .map((line) => /^(\d+) more datagrams? .* not shown$/.exec(line))
            .reduce((sum, match) => sum + (match ? Number(match[1]) : 0), 0);
          const entries = lines.filter((line) => line.includes('datagram ') && !/ not shown$/.test(line)).length;
          assert.equal(entries + notShown, c.received + c.replies + c.dropped, 'each datagram event shown or counted in a summary');
          assert.equal(batcher.stats.notShown, notShown);
        } finally {
          client.close();
          await workbench.dispose();
        }
      });
    }
  }
});

describe('CaptureBuffer', () => {
  const datagram = (n: number): CapturedDatagram => ({ atMicros: n, source: client, destination: server, payload: Buffer.alloc(0) });

  it('keeps the newest datagrams up to its capacity, oldest first, and counts those it let go', () => {
    const buffer = new CaptureBuffer(3);
    for (let n = 1; n <= 5; n++) buffer.add(datagram(n));
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [3, 4, 5],
    );
    assert.equal(buffer.notKept, 2);
    buffer.resize(2);
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [4, 5],
    );
    assert.equal(buffer.notKept, 3);
    buffer.resize(4);
    buffer.add(datagram(6));
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [4, 5, 6],
    );
    buffer.clear();
    assert.deepEqual([buffer.size, buffer.notKept], [0, 0]);
    assert.throws(() => new CaptureBuffer(0), /at least 1 datagram, not 0/);
  });

  it("keeps within its byte budget too, whatever its capacity, counting each datagram's overhead", () => {
    // Room for two datagrams of 100 bytes with their overhead, not three.
    const buffer = new CaptureBuffer(100, 250 + 2 * RECORD_OVERHEAD_BYTES);
    const sized = (n: number, size: number): CapturedDatagram => ({ ...datagram(n), payload: Buffer.alloc(size) });
    buffer.add(sized(1, 100));
    buffer.add(sized(2, 100));
    buffer.add(sized(3, 100));
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [2, 3],
    );
    buffer.add(sized(4, 1000));
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [4],
      'a datagram larger than the budget is still kept, alone',
    );
    buffer.add(sized(5, 0));
    assert.deepEqual(
      buffer.datagrams().map((d) => d.atMicros),
      [5],
    );
    assert.equal(buffer.notKept, 4);
  });
  it('counts what each datagram costs besides its payload: a million empty ones do not fit a small budget', () => {
    const buffer = new CaptureBuffer(1_000_000, 10 * RECORD_OVERHEAD_BYTES);
    for (let n = 1; n <= 1000; n++) buffer.add(datagram(n));
    assert.deepEqual([buffer.size, buffer.notKept, buffer.bytes], [10, 990, 10 * RECORD_OVERHEAD_BYTES]);
  });

  it('keeps every payload intact as its arena wraps and grows, for datagrams of mixed sizes', () => {
    const buffer = new CaptureBuffer(50, 20_000);
    const sizes = [0, 1, 700, 64, 1400, 3, 9000, 200];
    const added: Buffer[] = [];
    for (let n = 0; n < 2000; n++) {
      const payload = Buffer.alloc(sizes[n % sizes.length] + (n % 7), n % 251);
      if (payload.length >= 4) payload.writeUInt32BE(n, 0);
      added.push(payload);
      buffer.add({ atMicros: n, source: client, destination: server, payload });
      const held = buffer.datagrams();
      assert.ok(buffer.bytes <= 20_000 || held.length === 1, `within the budget after ${n}`);
      assert.equal(held.at(-1)!.atMicros, n);
      for (const d of held) assert.ok(d.payload.equals(added[d.atMicros]), `datagram ${d.atMicros} read back as it was added (after ${n})`);
      assert.equal(buffer.added - buffer.size, buffer.notKept);
    }
    assert.ok(buffer.footprint <= 20_000 + 50 * RECORD_OVERHEAD_BYTES, `footprint ${buffer.footprint}`);
  });

  it("keeps a mirrored reply (its request's very bytes) as a datagram of its own, within the same budget", () => {
    const buffer = new CaptureBuffer(3, 250);
    const bytes = Buffer.from('mirror me');
    buffer.add({ atMicros: 1, source: client, destination: server, payload: bytes });
    buffer.add({ atMicros: 2, source: server, destination: client, payload: bytes });
    buffer.add({ atMicros: 3, source: client, destination: server, payload: Buffer.from('next') });
    buffer.add({ atMicros: 4, source: server, destination: client, payload: Buffer.from('next') });
    assert.deepEqual(summary(buffer.datagrams()), ['12345>50000 mirror me', '50000>12345 next', '12345>50000 next']);
    assert.equal(buffer.notKept, 1);
  });
});

describe('CaptureFile', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'udpw-capture-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const datagram = (n: number, size = 100): CapturedDatagram => ({
    atMicros: n,
    source: client,
    destination: server,
    payload: Buffer.alloc(size, n),
  });

  it('writes the header and every datagram, the same bytes as the writer makes, and closes once', async () => {
    const path = join(dir, 'a.pcapng');
    const file = await CaptureFile.create(path);
    const datagrams = [datagram(1), datagram(2, 0), datagram(3, 65_507)];
    datagrams.forEach(file.add);
    assert.deepEqual(await file.close(), { written: 3, notWritten: 0 });
    assert.deepEqual(await file.close(), { written: 3, notWritten: 0 });
    file.add(datagram(4));
    assert.deepEqual(file.stats, { written: 3, notWritten: 1 });
    const expected = Buffer.concat([captureHeader('UDP Workbench'), ...datagrams.map(packetBlock)]);
    assert.ok(readFileSync(path).equals(expected));
    const saved = join(dir, 'b.pcapng');
    await saveCapture(saved, datagrams);
    assert.ok(readFileSync(saved).equals(expected));
  });

  it('keeps memory bounded under a flood: beyond its limit it counts datagrams, and says so in the next one written', async () => {
    const path = join(dir, 'flood.pcapng');
    const file = await CaptureFile.create(path, { maxPendingBytes: 10_000, flushBytes: Infinity, flushIntervalMs: 60_000 });
    for (let n = 0; n < 1000; n++) file.add(datagram(n));
    const { written, notWritten } = file.stats;
    assert.ok(written > 0 && written < 100, `kept ${written} of 1000 within 10,000 bytes`);
    assert.equal(written + notWritten, 1000);
    const stats = await file.close();
    assert.deepEqual(stats, { written, notWritten });
    const lateFile = await CaptureFile.create(join(dir, 'gap.pcapng'), { maxPendingBytes: 1 });
    lateFile.add(datagram(1));
    lateFile.add(datagram(2));
    lateFile.add(datagram(3));
    await new Promise((resolve) => setTimeout(resolve, 400));
    lateFile.add(datagram(4));
    await lateFile.close();
    const bytes = readFileSync(join(dir, 'gap.pcapng'));
    assert.ok(bytes.includes(Buffer.from('2 datagrams before this one are not in this file: the disk could not keep up')));
  });

  it('says clearly why a file cannot be written: no such folder, a folder, a full disk', async () => {
    const missing = await rejection(CaptureFile.create(join(dir, 'nope', 'a.pcapng')));
    assert.equal(missing.code, 'FILE_NOT_WRITABLE');
    assert.match(missing.text, /The folder for ".*nope\/a\.pcapng" does not exist\. Pick a folder that exists\./);
    assert.match((await rejection(saveCapture(dir, []))).text, /is a folder\. Pick a file name/);
    assert.match(
      (await rejection(CaptureFile.create('/dev/full'))).text,
      /The disk is full: could not write the capture to "\/dev\/full"\./,
    );
    assert.match((await rejection(saveCapture('/dev/full', [datagram(1)]))).text, /The disk is full/);
  });

  it('reports a write that fails later (the disk filled up while capturing) once, counts what it lost, and takes no more', async function () {
    // A real full disk: a 64 KiB tmpfs of the test's own, mounted as root (as the tests run), removed at the end.
    const mount = join(dir, 'small-disk');
    mkdirSync(mount);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'pipe' });
    } catch (error) {
      assert.fail(`This test fills a disk of its own, a 64 KiB tmpfs, and mounting one needs root (CI runs as root): ${String(error)}`);
    }
    const errors: string[] = [];
    const file = await CaptureFile.create(join(mount, 'full.pcapng'), { flushIntervalMs: 5, onError: (error) => errors.push(error.text) });
    try {
      for (let n = 0; n < 3; n++) file.add(datagram(n, 60_000));
      await new Promise((resolve) => setTimeout(resolve, 200));
      file.add(datagram(9));
      assert.equal(file.open, false);
      assert.equal(errors.length, 1);
      assert.match(errors[0], /^The disk is full: could not write the capture to ".*full\.pcapng"\. Free some space/);
      assert.deepEqual(file.stats, { written: 1, notWritten: 3 }, 'the first packet is on disk whole, the file cut back to it');
    } finally {
      const closed = await file.close().catch((error: unknown) => error);
      execFileSync('umount', [mount]);
      assert.equal((closed as WorkbenchError).code, 'FILE_NOT_WRITABLE');
    }
  });
});

describe('CaptureRecorder on a real proxy', () => {
  /** A plain echo socket the workbench does not know: the user's own server behind the proxy. */
  async function outsideEcho(host: string): Promise<dgram.Socket> {
    const socket = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
    socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
    await new Promise<void>((resolve) => socket.bind(0, host, resolve));
    return socket;
  }

  for (const host of ['127.0.0.1', '::1']) {
    it(`records both legs of every datagram with its fate and wire addresses, and the client's sends once: ${host}`, async () => {
      const workbench = new Workbench();
      const buffer = new CaptureBuffer(10_000);
      const recorder = new CaptureRecorder(buffer);
      workbench.events.subscribe(recorder.add);
      const echo = await outsideEcho(host);
      const link = { ...NO_LINK_IMPAIRMENT, seed: 21, loss: 0.2, duplicate: 0.2, corrupt: 0.1 };
      const proxy = await workbench.startProxy({
        host,
        port: 0,
        upstreamHost: host,
        upstreamPort: echo.address().port,
        links: { toServer: link, toClient: { ...link, seed: 22, delayMs: 5 } },
      });
      try {
        const sent = 60;
        for (let n = 0; n < sent; n++) {
          await workbench.send({
            target: { host, port: proxy.local.port },
            payload: Buffer.from(`through ${n}`),
            timeoutMs: 100,
            retries: 0,
            backoff: 1,
          });
        }
        for (let waited = 0; proxy.counters.toClient.pending > 0 && waited < 2000; waited += 10) {
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        recorder.flush();
        const { toServer, toClient } = proxy.counters;
        assert.equal(toServer.received, sent);
        assert.ok(
          toServer.dropped > 0 && toClient.dropped > 0 && toServer.duplicated + toClient.duplicated > 0,
          'the seed impairs both ways',
        );
        assert.ok(toServer.corrupted + toClient.corrupted > 0, 'the seed corrupts');

        const captured = buffer.datagrams();
        const upstream = { address: host, port: echo.address().port };
        const at = (d: RecordedDatagram): string => `${d.source.address}:${d.source.port}>${d.destination.address}:${d.destination.port}`;
        const clientIn = captured.filter((d) => d.direction === 'in' && d.destination.port === proxy.local.port);
        const serverOut = captured.filter((d) => d.direction === 'out' && d.destination.port === upstream.port);
        const serverIn = captured.filter((d) => d.direction === 'in' && d.source.port === upstream.port);
        const clientOut = captured.filter((d) => d.direction === 'out' && d.source.port === proxy.local.port);
        assert.equal(
          captured.length,
          clientIn.length + serverOut.length + serverIn.length + clientOut.length,
          'nothing else, no send twice',
        );
        assert.deepEqual(
          [clientIn.length, serverOut.length, serverIn.length, clientOut.length],
          [toServer.received, toServer.copies, toClient.received, toClient.copies],
        );
        assert.deepEqual(
          clientIn.map((d) => d.payload.toString()),
          Array.from({ length: sent }, (_, n) => `through ${n}`),
        );
        // Each send is a client of its own, so a session with its own upstream socket, on the address the system sends to the server from.
        const upstreamSockets = new Set(serverOut.map((d) => `${d.source.address}:${d.source.port}`));
        assert.equal(upstreamSockets.size, new Set(clientIn.filter((d) => d.fate === 'forwarded').map((d) => d.source.port)).size);
        assert.ok(serverOut.every((d) => d.source.address === host && d.destination.address === host && d.source.port !== 0));
        assert.ok(
          serverIn.every((d) => upstreamSockets.has(`${d.destination.address}:${d.destination.port}`)),
          serverIn.map(at).join(),
        );

        const fates = (legs: RecordedDatagram[]): Record<string, number> =>
          legs.reduce<Record<string, number>>((count, d) => ({ ...count, [d.fate]: (count[d.fate] ?? 0) + 1 }), {});
        assert.deepEqual(fates(clientIn), { forwarded: toServer.forwarded, dropped: toServer.dropped });
        assert.deepEqual(fates(serverIn), { forwarded: toClient.forwarded, dropped: toClient.dropped });
        assert.ok(
          clientIn.filter((d) => d.fate === 'dropped').every((d) => d.comment === 'dropped by the proxy (simulated loss, client → server)'),
        );
        assert.ok(
          serverIn.filter((d) => d.fate === 'dropped').every((d) => d.comment === 'dropped by the proxy (simulated loss, server → client)'),
        );
        assert.equal(serverOut.filter((d) => d.comment?.includes('duplicate')).length, toServer.copies - toServer.forwarded);
        assert.equal(clientOut.filter((d) => d.comment?.includes('duplicate')).length, toClient.copies - toClient.forwarded);
        assert.ok(clientOut.every((d) => d.comment?.includes('delayed 5 ms')));
        const corrupted = [...serverOut, ...clientOut].filter((d) => d.fate === 'corrupted');
        assert.ok(corrupted.length > 0 && corrupted.every((d) => /corrupted \(bit \d+ flipped\)/.test(d.comment!)));
        // A row's exchange ties the datagram the proxy received to the copies it forwarded.
        for (const out of serverOut) {
          const inbound = clientIn.filter((d) => d.exchange === out.exchange);
          assert.equal(inbound.length, 1);
          if (out.fate !== 'corrupted') assert.deepEqual(out.payload, inbound[0].payload);
        }
      } finally {
        await workbench.dispose();
        echo.close();
      }
    });
  }

  it('records a send to another program on the port number of a wildcard server, in the other family', async () => {
    const workbench = new Workbench();
    const buffer = new CaptureBuffer(100);
    const recorder = new CaptureRecorder(buffer);
    workbench.events.subscribe(recorder.add);
    const server = await workbench.startServer({ host: '0.0.0.0', port: 0 });
    const port = server.local.port;
    const other = dgram.createSocket('udp6');
    other.on('message', (message, peer) => other.send(Buffer.concat([Buffer.from('echo '), message]), peer.port, peer.address));
    try {
      await new Promise<void>((resolve, reject) => {
        other.once('error', reject);
        other.bind(port, '::1', resolve);
      });
      const result = await workbench.send({
        target: { host: '::1', port },
        payload: Buffer.from('to the other program'),
        timeoutMs: 2000,
        retries: 0,
        backoff: 1,
      });
      assert.equal(result.outcome, 'reply');
      recorder.flush();
      assert.deepEqual(
        buffer
          .datagrams()
          .map((d) => `${d.direction} ${d.fate} ${d.destination.address}:${d.destination.port === port} ${d.payload.toString()}`),
        ['out replied ::1:true to the other program', 'in reply ::1:false echo to the other program'],
        'the server on 0.0.0.0 is not the socket at [::1] on its port number',
      );
      assert.equal(server.counters.received, 0);
    } finally {
      other.close();
      await workbench.dispose();
    }
  });

  it('records a proxy in front of one of the workbench’s own servers once per datagram, by the proxy', async () => {
    const workbench = new Workbench();
    const buffer = new CaptureBuffer(10_000);
    const recorder = new CaptureRecorder(buffer);
    workbench.events.subscribe(recorder.add);
    const server = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const proxy = await workbench.startProxy({ host: '127.0.0.1', port: 0, upstreamHost: '127.0.0.1', upstreamPort: server.local.port });
    try {
      for (let n = 0; n < 5; n++) {
        const result = await workbench.send({
          target: { host: '127.0.0.1', port: proxy.local.port },
          payload: Buffer.from(`own ${n}`),
          timeoutMs: 2000,
          retries: 0,
          backoff: 1,
        });
        assert.equal(result.outcome, 'reply');
      }
      recorder.flush();
      const captured = buffer.datagrams();
      assert.deepEqual(
        captured.map((d) => `${d.direction} ${d.fate} ${d.payload.toString()}`),
        Array.from({ length: 5 }, (_, n) => [
          `in forwarded own ${n}`,
          `out forwarded own ${n}`,
          `in forwarded own ${n}`,
          `out forwarded own ${n}`,
        ]).flat(),
        'client → proxy, proxy → server, server → proxy, proxy → client; the server’s and the client’s view of the same datagrams are not added',
      );
    } finally {
      await workbench.dispose();
    }
  });
});

describe('CaptureRecorder on a burst', () => {
  it('records each datagram of a burst to a plain Node echo and its reply, marks each answered, and the log only counts them', async () => {
    const workbench = new Workbench();
    const buffer = new CaptureBuffer(10_000);
    const recorder = new CaptureRecorder(buffer);
    workbench.events.subscribe(recorder.add);
    const lines: string[] = [];
    const write = (text: string): void => void lines.push(text);
    const batcher = new LogBatcher({ info: write, warn: write, error: write }, { ...DEFAULT_BATCHING, previewBytes: 64, hexDump: 'never' });
    workbench.events.subscribe(batcher.add);
    const echo = dgram.createSocket('udp6');
    echo.on('message', (message, peer) => echo.send(message, peer.port, peer.address));
    await new Promise<void>((resolve) => echo.bind(0, '::1', resolve));
    try {
      const count = 500;
      const result = await workbench.burst({
        target: { host: '::1', port: echo.address().port },
        payload: Buffer.from('paced'),
        count,
        ratePerSecond: 5000,
        timeoutMs: 500,
      });
      assert.deepEqual([result.sent, result.received], [count, count]);
      recorder.flush();
      const captured = buffer.datagrams();
      const out = captured.filter((d) => d.direction === 'out');
      const back = captured.filter((d) => d.direction === 'in');
      assert.deepEqual([out.length, back.length], [count, count]);
      assert.ok(out.every((d) => d.fate === 'replied' && d.payload.subarray(0, 5).toString() === 'paced' && d.payload.length === 5 + 8));
      assert.ok(back.every((d) => d.fate === 'reply' && d.source.port === echo.address().port));
      assert.deepEqual(new Set(back.map((d) => d.exchange)), new Set(out.map((d) => d.exchange)), 'each reply with its datagram');
      assert.deepEqual(workbench.totals.client.sent, 0, 'the totals count sends, the burst reports itself');

      batcher.flush();
      // A flush may come while the burst runs: each writes what it counted since the last.
      const counted = (what: string): number =>
        lines.reduce((sum, line) => {
          const match = new RegExp(`^burst to \\[::1\\]:${echo.address().port}: (\\d+) ${what} \\(counted, not shown one by one\\)$`).exec(
            line,
          );
          return sum + (match ? Number(match[1]) : 0);
        }, 0);
      assert.deepEqual([counted('datagrams? sent'), counted('(?:reply|replies) received')], [count, count], lines.join('\n'));
      assert.ok(lines.length <= 2 * 4, `a line or two a flush, not one a datagram: ${lines.length} lines`);
    } finally {
      batcher.dispose();
      await workbench.dispose();
      echo.close();
    }
  });
  it('marks the datagrams of a finished burst that no reply answered as timed out, and leaves the answered ones replied', async () => {
    const workbench = new Workbench();
    const buffer = new CaptureBuffer(10_000);
    const recorder = new CaptureRecorder(buffer);
    workbench.events.subscribe(recorder.add);
    // A plain Node echo that answers only the even datagrams (the burst's tag ends with the sequence number).
    const echo = dgram.createSocket('udp4');
    echo.on('message', (message, peer) => {
      if (message.readUInt32BE(message.length - 4) % 2 === 0) echo.send(message, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', resolve));
    try {
      const count = 200;
      const result = await workbench.burst({
        target: { host: '127.0.0.1', port: echo.address().port },
        payload: Buffer.from('half'),
        count,
        ratePerSecond: 5000,
        timeoutMs: 200,
      });
      assert.deepEqual([result.sent, result.received], [count, count / 2]);
      recorder.flush();
      const out = buffer.datagrams().filter((d) => d.direction === 'out');
      assert.equal(out.length, count);
      const fateOf = (d: RecordedDatagram): string =>
        `${d.payload.readUInt32BE(d.payload.length - 4) % 2 === 0 ? 'even' : 'odd'} ${d.fate}`;
      assert.deepEqual(
        [...new Set(out.map(fateOf))].sort(),
        ['even replied', 'odd timed-out'],
        'every odd datagram timed out, every even one was answered',
      );
    } finally {
      await workbench.dispose();
      echo.close();
    }
  });
});
