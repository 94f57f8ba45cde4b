import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { sendDatagram } from '../../src/core/send/client';
import { describeEvent } from '../../src/core/log/eventText';
import type { WorkbenchEvent } from '../../src/core/events';
import { GROUP_LIMITS } from '../../src/core/limits';

/**
 * `count` replies to 127.0.0.1:`port`, each from a source of its own: 127.0.x.y, all on one port, every one a real
 * address of the loopback interface (all of 127.0.0.0/8 is), as forged repliers on a network would be.
 */
function repliesFromDistinctSources(port: number, count: number): Promise<void> {
  const script = [
    'import socket, sys, time',
    'port, count = int(sys.argv[1]), int(sys.argv[2])',
    'for i in range(count):',
    '    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    "    s.bind(('127.0.%d.%d' % (i // 250, i % 250 + 2), 40001))",
    "    s.sendto(b'HTTP/1.1 200 OK', ('127.0.0.1', port))",
    '    s.close()',
    // Paced, so the sender's receive buffer never overflows: each reply must arrive to be counted.
    '    if i % 50 == 49: time.sleep(0.005)',
  ].join('\n');
  const child = spawn('python3', ['-c', script, String(port), String(count)], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 30_000 });
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the repliers exited with ${code}`)))),
  );
}

describe('A send to a group answered by more repliers than it tells apart (real loopback sockets)', () => {
  it(`keeps at most ${GROUP_LIMITS.maxPeers} distinct repliers, counts the replies of the rest, and says so`, async function () {
    // The window must outlast a loaded machine's Python start and every paced reply: the send collects until it ends.
    this.timeout(30_000);
    const extra = 200;
    const total = GROUP_LIMITS.maxPeers + extra;
    const events: WorkbenchEvent[] = [];
    let repliers: Promise<void> | undefined;
    const result = await sendDatagram({
      target: { host: '239.255.77.3', port: 40_002 },
      payload: Buffer.from('M-SEARCH * HTTP/1.1'),
      timeoutMs: 10_000,
      retries: 0,
      backoff: 1,
      group: { interface: '127.0.0.1', ttl: 0 },
      emit: (event) => {
        events.push(event);
        if (event.kind === 'sent') repliers = repliesFromDistinctSources(event.local.port, total);
      },
    });
    await repliers;
    const group = result.group!;
    assert.equal(group.replies.length + group.more, total, 'every reply counted');
    assert.equal(group.peers, GROUP_LIMITS.maxPeers, 'repliers told apart up to the cap');
    assert.equal(group.fromMorePeers, extra, 'the replies of the rest counted');
    const collected = events.find((event) => event.kind === 'replies-collected');
    assert.ok(collected);
    assert.match(
      describeEvent(collected, { previewBytes: 64, hexDump: 'never' }).text,
      /^1,024 peers and more answered 239\.255\.77\.3:40002 .*; 200 replies came from sources past the first 1,024, counted but not told apart$/,
    );
  });
});
