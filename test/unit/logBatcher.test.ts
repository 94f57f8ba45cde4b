import * as assert from 'node:assert/strict';
import { WorkbenchError } from '../../src/core/errors';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { DEFAULT_BATCHING, LogBatcher, type LogBatcherOptions, type LogWriter } from '../../src/core/log/logBatcher';
import { FakeClock } from './fakeClock';

const PEER: Peer = { address: '127.0.0.1', port: 50000, family: 'IPv4' };

function memoryWriter(): LogWriter & { lines: Array<{ level: string; text: string }> } {
  const lines: Array<{ level: string; text: string }> = [];
  return {
    lines,
    info: (text) => lines.push({ level: 'info', text }),
    warn: (text) => lines.push({ level: 'warn', text }),
    error: (text) => lines.push({ level: 'error', text }),
  };
}

function received(seq: number, peer: Peer = PEER, payload = Buffer.from('hello')): WorkbenchEvent {
  return { kind: 'received', at: Date.now(), serverId: 'udp-1', peer, payload, seq };
}

const options = { ...DEFAULT_BATCHING, previewBytes: 64, hexDump: 'auto' as const };

function serverError(port: number): WorkbenchEvent {
  const error = new WorkbenchError('SOCKET_ERROR', `Could not reply to 127.0.0.1:${port}: invalid port.`, 'The server keeps listening.');
  return { kind: 'server-error', at: 0, serverId: 'udp-1', error };
}

function sendFailed(port: number): WorkbenchEvent {
  const target: Peer = { address: '127.0.0.1', port, family: 'IPv4' };
  const error = new WorkbenchError('CONNECTION_REFUSED', `Nothing is listening on 127.0.0.1:${port}.`, 'Start a server there.');
  return { kind: 'send-failed', at: 0, requestId: 1, target, error };
}

/** A batcher whose flush timer moves only with `clock.tick`. */
function withFakeClock(batching: LogBatcherOptions): { clock: FakeClock; writer: ReturnType<typeof memoryWriter>; batcher: LogBatcher } {
  const clock = new FakeClock();
  const writer = memoryWriter();
  return { clock, writer, batcher: new LogBatcher(writer, batching, clock) };
}

/** Lines as the Output panel shows them: an entry with a hex dump is several. */
function shownLines(writer: ReturnType<typeof memoryWriter>): string[] {
  return writer.lines.flatMap((line) => line.text.split('\n'));
}

/** The counts of the "N more …" summaries, added up. */
function summarised(writer: ReturnType<typeof memoryWriter>): number {
  return writer.lines.reduce((sum, line) => sum + Number(/^(?:\[\S+\] )?([\d,]+) more/.exec(line.text)?.[1].replace(/,/g, '') ?? 0), 0);
}

describe('LogBatcher', () => {
  it('writes nothing until it flushes, then writes every queued event in order', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, options);
    batcher.add(received(1));
    batcher.add(received(2));
    assert.equal(writer.lines.length, 0);
    batcher.flush();
    assert.deepEqual(
      writer.lines.map((l) => l.text),
      ['[udp-1] received #1 from 127.0.0.1:50000, 5 bytes: "hello"', '[udp-1] received #2 from 127.0.0.1:50000, 5 bytes: "hello"'],
    );
    batcher.dispose();
  });

  it('flushes by itself after the interval', () => {
    const { clock, writer, batcher } = withFakeClock({ ...options, flushIntervalMs: 20 });
    batcher.add(received(1));
    clock.tick(19);
    assert.equal(writer.lines.length, 0);
    batcher.add(received(2));
    clock.tick(1);
    assert.equal(writer.lines.length, 2);
    assert.equal(batcher.stats.flushes, 1);
    batcher.dispose();
  });

  it('flushes at most once per interval, however many events come, and takes a new interval from configure', () => {
    const { clock, writer, batcher } = withFakeClock(options);
    for (let seq = 1; seq <= 50; seq++) {
      batcher.add(received(seq));
      clock.tick(10);
    }
    assert.equal(batcher.stats.flushes, 2);
    assert.equal(clock.pending, 0);
    batcher.configure({ ...options, flushIntervalMs: 1000 });
    batcher.add(received(51));
    clock.tick(999);
    assert.equal(batcher.stats.flushes, 2);
    clock.tick(1);
    assert.equal(batcher.stats.flushes, 3);
    assert.equal(writer.lines.length, 51);
    batcher.dispose();
  });

  it('does not leak timers past disposal', () => {
    const { clock, writer, batcher } = withFakeClock(options);
    batcher.add(received(1));
    assert.equal(clock.pending, 1);
    batcher.dispose();
    assert.equal(clock.pending, 0);
    assert.equal(writer.lines.length, 1, 'dispose writes what was waiting');
    clock.tick(10_000);
    assert.equal(batcher.stats.flushes, 1);
  });

  it('shows a flood up to the budget and summarises the rest per peer, losing no count', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxEventsPerFlush: 10 });
    const other: Peer = { address: '::1', port: 40000, family: 'IPv6' };
    for (let seq = 1; seq <= 5000; seq++) batcher.add(received(seq));
    for (let seq = 1; seq <= 7; seq++) batcher.add(received(seq, other));
    batcher.add({
      kind: 'dropped',
      at: 0,
      serverId: 'udp-1',
      peer: PEER,
      size: 5,
      payload: Buffer.from('hello'),
      seq: 5001,
      reason: 'simulated-loss-inbound',
    });
    batcher.flush();
    const texts = writer.lines.map((l) => l.text);
    assert.equal(texts.filter((t) => t.startsWith('[udp-1] received')).length, 10);
    assert.ok(texts.includes('4,990 more datagrams received by udp-1 from 127.0.0.1:50000 not shown'), texts.join('\n'));
    assert.ok(texts.includes('7 more datagrams received by udp-1 from [::1]:40000 not shown'), texts.join('\n'));
    const drop = writer.lines.find((l) => l.text.includes('dropped by udp-1'));
    assert.deepEqual(drop, {
      level: 'warn',
      text: '1 more datagram dropped by udp-1 from 127.0.0.1:50000 (simulated loss on the way in) not shown',
    });
    assert.equal(batcher.stats.notShown, 4990 + 7 + 1);
  });

  it('counts each peer and kind on its own line when several floods interleave, more of them than it remembers at once', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxEventsPerFlush: 0 });
    const peers: Peer[] = [1, 2, 3, 4, 5, 6].map((n) => ({ address: `127.0.0.${n}`, port: 5000 + n, family: 'IPv4' }));
    for (let round = 1; round <= 50; round++) {
      peers.forEach((peer, i) => {
        // Peer i sends i + 1 datagrams a round, and each is answered.
        for (let k = 0; k <= i; k++) {
          batcher.add(received(round, peer));
          const payload = Buffer.from('hello');
          batcher.add({
            kind: 'replied',
            at: 0,
            serverId: 'udp-1',
            peer,
            payload,
            seq: round,
            delayMs: 0,
            duplicate: false,
            reordered: false,
            truncated: false,
          });
        }
      });
    }
    batcher.flush();
    const texts = writer.lines.map((l) => l.text);
    peers.forEach((peer, i) => {
      const count = 50 * (i + 1);
      assert.ok(texts.includes(`${count} more datagrams received by udp-1 from ${peer.address}:${peer.port} not shown`), texts.join('\n'));
      assert.ok(texts.includes(`${count} more datagrams replied by udp-1 to ${peer.address}:${peer.port} not shown`), texts.join('\n'));
    });
    assert.equal(writer.lines.length, 12);
    assert.equal(summarised(writer), 2 * 50 * 21);
  });

  it('never summarises server and client events: a stop is always shown', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxEventsPerFlush: 1 });
    for (let seq = 1; seq <= 100; seq++) batcher.add(received(seq));
    batcher.add({ kind: 'server-stopped', at: 0, serverId: 'udp-1', local: { address: '127.0.0.1', port: 12345, family: 'IPv4' } });
    batcher.add({ kind: 'timeout', at: 0, requestId: 1, target: PEER, attempt: 1, timeoutMs: 1000, willRetry: true });
    batcher.flush();
    const texts = writer.lines.map((l) => l.text);
    assert.ok(texts.includes('[udp-1] echo server on 127.0.0.1:12345 stopped'));
    assert.ok(texts.includes('no reply from 127.0.0.1:50000 within 1.00 s, sending again'), texts.join('\n'));
  });

  it('keeps the summary bounded when a flood comes from many peers', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxEventsPerFlush: 0 });
    for (let port = 1; port <= 1000; port++) batcher.add(received(port, { address: '127.0.0.1', port, family: 'IPv4' }));
    batcher.flush();
    assert.ok(writer.lines.length <= 101, `${writer.lines.length} lines`);
    const counted = writer.lines.reduce((sum, line) => sum + Number(/^([\d,]+) more/.exec(line.text)?.[1].replace(/,/g, '')), 0);
    assert.equal(counted, 1000);
    assert.ok(writer.lines.some((l) => l.text === '900 more datagrams received by udp-1 from other peers not shown'));
  });

  it('shows binary datagrams as a hex dump', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, options);
    batcher.add(received(1, PEER, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])));
    batcher.flush();
    assert.match(writer.lines[0].text, /^\[udp-1\] received #1 from 127\.0\.0\.1:50000, 5 bytes:\n {4}0000 {2}de ad be ef 00/);
  });

  it('keeps a burst of errors within the budget and summarises the rest with exact counts', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxEventsPerFlush: 10 });
    for (let i = 0; i < 2600; i++) batcher.add(serverError(0));
    for (let i = 0; i < 5; i++) batcher.add(sendFailed(9));
    batcher.add({ kind: 'server-stopped', at: 0, serverId: 'udp-1', local: PEER });
    batcher.flush();
    const texts = writer.lines.map((l) => l.text);
    assert.equal(texts.filter((t) => t.startsWith('[udp-1] Could not reply')).length, 10, texts.join('\n'));
    assert.ok(
      texts.includes(
        '[udp-1] 2,590 more errors like this not shown: Could not reply to 127.0.0.1:0: invalid port. The server keeps listening.',
      ),
      texts.join('\n'),
    );
    assert.ok(
      texts.includes('5 more failed sends to 127.0.0.1:9 like this not shown: Nothing is listening on 127.0.0.1:9. Start a server there.'),
      texts.join('\n'),
    );
    assert.ok(texts.includes('[udp-1] echo server on 127.0.0.1:50000 stopped'), 'a stop is always shown');
    assert.equal(writer.lines.length, 10 + 2 + 1);
    assert.ok(writer.lines.filter((l) => l.text.includes('more')).every((l) => l.level === 'error'));
    assert.equal(batcher.stats.notShown, 2590 + 5);
  });

  it('holds error lines to the line and byte budgets too', () => {
    for (const budget of [{ maxLinesPerFlush: 20 }, { maxBytesPerFlush: 2000 }]) {
      const writer = memoryWriter();
      const batcher = new LogBatcher(writer, { ...options, ...budget });
      for (let i = 0; i < 2600; i++) batcher.add(serverError(0));
      batcher.flush();
      const shown = writer.lines.filter((l) => l.text.startsWith('[udp-1] Could not reply'));
      const bytes = shown.reduce((sum, l) => sum + Buffer.byteLength(l.text), 0);
      assert.ok(
        shown.length >= 1 && shown.length <= (budget.maxLinesPerFlush ?? 99),
        `${shown.length} error lines with ${JSON.stringify(budget)}`,
      );
      assert.ok(bytes <= (budget.maxBytesPerFlush ?? Infinity), `${bytes} bytes`);
      assert.deepEqual(
        writer.lines.slice(shown.length).map((l) => l.text),
        [
          `[udp-1] ${(2600 - shown.length).toLocaleString('en-US')} more errors like this not shown: Could not reply to 127.0.0.1:0: invalid port. The server keeps listening.`,
        ],
      );
      assert.equal(batcher.stats.notShown, 2600 - shown.length);
    }
  });

  it('writes at most the line budget of a flush, however big each entry, and counts the rest', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, previewBytes: 65_536, hexDump: 'always', maxLinesPerFlush: 200 });
    for (let seq = 1; seq <= 138; seq++) batcher.add(received(seq, PEER, Buffer.alloc(65_507, seq)));
    batcher.flush();
    const entries = writer.lines.filter((l) => l.text.startsWith('[udp-1] received'));
    const summaryLines = writer.lines.length - entries.length;
    assert.equal(summaryLines, 1);
    assert.ok(entries.length >= 1, 'something is shown');
    assert.ok(shownLines(writer).length - summaryLines <= 200, `${shownLines(writer).length} lines`);
    assert.equal(summarised(writer), 138 - entries.length, writer.lines.at(-1)?.text);
    assert.equal(writer.lines.at(-1)?.text, `${138 - entries.length} more datagrams received by udp-1 from 127.0.0.1:50000 not shown`);
  });

  it('writes at most the byte budget of a flush, and counts the rest', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, previewBytes: 65_536, hexDump: 'never', maxBytesPerFlush: 50_000 });
    for (let seq = 1; seq <= 100; seq++) batcher.add(received(seq, PEER, Buffer.alloc(4000, 0x01)));
    batcher.flush();
    const entries = writer.lines.filter((l) => l.text.startsWith('[udp-1] received'));
    assert.ok(entries.length >= 1 && entries.length < 100, `${entries.length} entries`);
    const bytes = entries.reduce((sum, l) => sum + Buffer.byteLength(l.text), 0);
    assert.ok(bytes <= 50_000, `${bytes} bytes`);
    assert.equal(summarised(writer), 100 - entries.length);
    assert.equal(batcher.stats.notShown, 100 - entries.length);
  });

  it('keeps the order of what it shows: after the first entry that does not fit, the rest are counted', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxLinesPerFlush: 3 });
    batcher.add(received(1));
    batcher.add(received(2, PEER, Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])));
    batcher.add(received(3));
    batcher.flush();
    assert.deepEqual(
      writer.lines.map((l) => l.text),
      ['[udp-1] received #1 from 127.0.0.1:50000, 5 bytes: "hello"', '2 more datagrams received by udp-1 from 127.0.0.1:50000 not shown'],
    );
  });

  it("writes no line for a proxy's arrival (its forwarded or dropped line follows), and only counts a burst's datagrams", () => {
    const { clock, writer, batcher } = withFakeClock({ ...options, maxEventsPerFlush: 100 });
    const proxy: Peer = { address: '127.0.0.1', port: 7000, family: 'IPv4' };
    const target: Peer = { address: '127.0.0.1', port: 9000, family: 'IPv4' };
    batcher.add({
      kind: 'proxy-received',
      at: 0,
      proxyId: 'proxy-1',
      direction: 'to-server',
      session: 1,
      peer: PEER,
      seq: 1,
      source: PEER,
      destination: proxy,
      payload: Buffer.from('hello'),
    });
    for (let seq = 0; seq < 3; seq++) {
      const payload = Buffer.from(`b${seq}`);
      batcher.add({ kind: 'burst-sent', at: 0, requestId: 7, target, payload, seq, local: PEER });
      batcher.add({
        kind: 'burst-reply',
        at: 0,
        requestId: 7,
        target,
        payload,
        from: target,
        local: PEER,
        seq,
        duplicate: false,
        rttMs: 1,
      });
    }
    clock.tick(options.flushIntervalMs);
    assert.deepEqual(
      writer.lines.map((l) => l.text),
      [
        'burst to 127.0.0.1:9000: 3 datagrams sent (counted, not shown one by one)',
        'burst to 127.0.0.1:9000: 3 replies received (counted, not shown one by one)',
      ],
    );
    batcher.dispose();
  });
});
