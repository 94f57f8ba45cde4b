import * as assert from 'node:assert/strict';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { DEFAULT_BATCHING, LogBatcher, type LogWriter } from '../../src/core/logBatcher';

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

  it('flushes by itself after the interval', async () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, flushIntervalMs: 20 });
    batcher.add(received(1));
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(writer.lines.length, 1);
    assert.equal(batcher.stats.flushes, 1);
    batcher.dispose();
  });

  it('shows a flood up to the budget and summarises the rest per peer, losing no count', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxDatagramsPerFlush: 10 });
    const other: Peer = { address: '::1', port: 40000, family: 'IPv6' };
    for (let seq = 1; seq <= 5000; seq++) batcher.add(received(seq));
    for (let seq = 1; seq <= 7; seq++) batcher.add(received(seq, other));
    batcher.add({ kind: 'dropped', at: 0, serverId: 'udp-1', peer: PEER, size: 5, payload: Buffer.from('hello'), seq: 5001, reason: 'simulated-loss-inbound' });
    batcher.flush();
    const texts = writer.lines.map((l) => l.text);
    assert.equal(texts.filter((t) => t.startsWith('[udp-1] received')).length, 10);
    assert.ok(texts.includes('4,990 more datagrams received by udp-1 from 127.0.0.1:50000 not shown'), texts.join('\n'));
    assert.ok(texts.includes('7 more datagrams received by udp-1 from [::1]:40000 not shown'), texts.join('\n'));
    const drop = writer.lines.find((l) => l.text.includes('dropped by udp-1'));
    assert.deepEqual(drop, { level: 'warn', text: '1 more datagram dropped by udp-1 from 127.0.0.1:50000 (simulated loss on the way in) not shown' });
    assert.equal(batcher.stats.notShown, 4990 + 7 + 1);
  });

  it('never summarises server and client events: a stop is always shown', () => {
    const writer = memoryWriter();
    const batcher = new LogBatcher(writer, { ...options, maxDatagramsPerFlush: 1 });
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
    const batcher = new LogBatcher(writer, { ...options, maxDatagramsPerFlush: 0 });
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
});
