import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureBuffer } from '../../src/core/capture/captureBuffer';
import { CaptureFile, saveCapture } from '../../src/core/capture/captureFile';
import { CaptureRecorder, type RecordListener } from '../../src/core/capture/captureRecorder';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { NO_LINK_IMPAIRMENT, NO_SIMULATION } from '../../src/core/impairment/impairment';
import { captureHeader, packetBlock } from '../../src/core/capture/pcapng';
import { Workbench } from '../../src/core/workbench/workbench';
import { expertProblems, readCapture, tshark, type DecodedPacket } from './tshark';

/** What a packet should decode to; Wireshark's checksum verdicts and the time are checked on their own. */
type Expected = Omit<DecodedPacket, 'ipChecksum' | 'udpChecksum' | 'time'>;

const DROP_COMMENTS: Record<string, string> = {
  'simulated-loss-inbound': 'dropped by simulation (loss on the way in)',
  'simulated-loss-outbound': 'reply dropped by simulation (loss on the way out)',
};

/** What the wire carried, worked out from the events by the test itself: one packet per datagram, drops marked. */
function expectedPackets(events: readonly WorkbenchEvent[], ownServerPorts: ReadonlySet<number>): Expected[] {
  const servers = new Map<string, { address: string; port: number }>();
  const packets: Expected[] = [];
  const byServerSeq = new Map<string, Expected>();
  const senders = new Map<number, { address: string; port: number }>();
  for (const event of events) {
    if (event.kind === 'server-started') servers.set(event.serverId, event.local);
    if (event.kind === 'received') {
      const local = servers.get(event.serverId)!;
      const packet = {
        source: event.peer.address,
        destination: local.address,
        sourcePort: event.peer.port,
        destinationPort: local.port,
        payload: event.payload.toString('hex'),
        comment: '',
      };
      packets.push(packet);
      byServerSeq.set(`${event.serverId}#${event.seq}`, packet);
    }
    if (event.kind === 'dropped') byServerSeq.get(`${event.serverId}#${event.seq}`)!.comment = DROP_COMMENTS[event.reason];
    if (event.kind === 'replied') {
      const local = servers.get(event.serverId)!;
      const comment = event.duplicate ? 'duplicate' : '';
      packets.push({
        source: local.address,
        destination: event.peer.address,
        sourcePort: local.port,
        destinationPort: event.peer.port,
        payload: event.payload.toString('hex'),
        comment,
      });
    }
    if (event.kind === 'sent') senders.set(event.requestId, event.local);
    if (event.kind === 'sent' && !ownServerPorts.has(event.target.port)) {
      packets.push({
        source: event.local.address,
        destination: event.target.address,
        sourcePort: event.local.port,
        destinationPort: event.target.port,
        payload: event.payload.toString('hex'),
        comment: '',
      });
    }
    if (event.kind === 'reply' && !ownServerPorts.has(event.from.port)) {
      const sender = senders.get(event.requestId)!;
      packets.push({
        source: event.from.address,
        destination: sender.address,
        sourcePort: event.from.port,
        destinationPort: sender.port,
        payload: event.payload.toString('hex'),
        comment: `reply after `,
      });
    }
  }
  return packets;
}

function comparable(packets: readonly DecodedPacket[]): Expected[] {
  return packets.map(({ source, destination, sourcePort, destinationPort, payload, comment }) => ({
    source,
    destination,
    sourcePort,
    destinationPort,
    payload,
    // The round trip's figure varies run to run; the words before it do not.
    comment: comment.startsWith('reply after ') ? 'reply after ' : comment,
  }));
}

/** A plain echo socket the workbench does not know: its traffic is recorded from the sending side. */
async function outsideEcho(host = '127.0.0.1'): Promise<dgram.Socket> {
  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (message, peer) => socket.send(message, peer.port, peer.address));
  await new Promise<void>((resolve) => socket.bind(0, host, resolve));
  return socket;
}

/** A workbench whose every event is kept and recorded into a ring buffer (and handed to `alsoRecord`, if given). */
function recordingWorkbench(alsoRecord?: RecordListener) {
  const workbench = new Workbench();
  const events: WorkbenchEvent[] = [];
  const buffer = new CaptureBuffer(10_000);
  const recorder = new CaptureRecorder(buffer, alsoRecord);
  workbench.events.subscribe((event) => {
    events.push(event);
    recorder.add(event);
  });
  return { workbench, events, buffer, recorder };
}

describe('capture read back by tshark', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'udpw-capture-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('shows every datagram of real loopback traffic, with the simulation’s drops and duplicates as comments, checksums valid', async () => {
    const streamed = await CaptureFile.create(join(dir, 'streamed.pcapng'), { flushIntervalMs: 10 });
    const { workbench, events, buffer, recorder } = recordingWorkbench((datagram) => streamed.add(datagram));
    const echo = await outsideEcho();
    try {
      const simulation = { ...NO_SIMULATION, seed: 7, dropInbound: 0.25, dropOutbound: 0.15, duplicate: 0.3 };
      const v4 = await workbench.startServer({ host: '127.0.0.1', port: 0, simulation });
      const v6 = await workbench.startServer({ host: '::1', port: 0, simulation });
      const payloads = [
        Buffer.alloc(0),
        Buffer.from('hello'),
        Buffer.from([0, 1, 2, 0xff]),
        Buffer.alloc(1400, 0xab),
        Buffer.from('\u202e ünïcode'),
      ];
      for (let round = 0; round < 4; round++) {
        for (const [i, payload] of payloads.entries()) {
          for (const server of [v4, v6]) {
            const bytes = payload.length === 0 ? payload : Buffer.concat([payload, Buffer.from(` #${round}.${i}`)]);
            await workbench.send({
              target: { host: server.local.address, port: server.local.port },
              payload: bytes,
              timeoutMs: 150,
              retries: 0,
              backoff: 1,
            });
          }
        }
      }
      await workbench.send({
        target: { host: '127.0.0.1', port: echo.address().port },
        payload: Buffer.from('to a stranger'),
        timeoutMs: 2000,
        retries: 0,
        backoff: 1,
      });
      // Late duplicates must be in before the capture is read.
      await new Promise((resolve) => setTimeout(resolve, 50));
      recorder.flush();

      const counters = [v4.counters, v6.counters];
      assert.ok(
        counters.every((c) => c.droppedBy['simulated-loss-inbound'] > 0 && c.droppedBy['simulated-loss-outbound'] > 0),
        'the seed drops both ways on both servers',
      );
      assert.ok(
        counters.every((c) => c.replies > c.answered),
        'the seed duplicates on both servers',
      );

      const saved = join(dir, 'saved.pcapng');
      await saveCapture(saved, buffer.datagrams());
      await streamed.close();
      const expected = expectedPackets(events, new Set([v4.local.port, v6.local.port]));
      assert.equal(expected.length, counters.reduce((sum, c) => sum + c.received + c.replies, 0) + 2);
      for (const file of [saved, join(dir, 'streamed.pcapng')]) {
        const packets = readCapture(file);
        assert.deepEqual(comparable(packets), expected);
        assert.ok(
          packets.every((p) => p.udpChecksum === '1' && (p.source.includes(':') || p.ipChecksum === '1')),
          'Wireshark finds every checksum good',
        );
        assert.deepEqual(expertProblems(file), []);
      }
    } finally {
      await workbench.dispose();
      echo.close();
    }
  });

  it('shows both legs of every datagram through the proxy, with each fate as a comment, IPv4 and IPv6', async () => {
    const { workbench, events, buffer, recorder } = recordingWorkbench();
    const echoes = [await outsideEcho('127.0.0.1'), await outsideEcho('::1')];
    try {
      for (const [i, host] of ['127.0.0.1', '::1'].entries()) {
        const link = { ...NO_LINK_IMPAIRMENT, seed: 40 + i, loss: 0.2, duplicate: 0.2, corrupt: 0.15, delayMs: 3 };
        const proxy = await workbench.startProxy({
          host,
          port: 0,
          upstreamHost: host,
          upstreamPort: echoes[i].address().port,
          links: { toServer: link, toClient: { ...link, seed: 50 + i } },
        });
        for (let n = 0; n < 40; n++) {
          await workbench.send({
            target: { host, port: proxy.local.port },
            payload: Buffer.from(`via ${host} ${n}`),
            timeoutMs: 60,
            retries: 0,
            backoff: 1,
          });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      recorder.flush();
      const file = join(dir, 'proxy.pcapng');
      await saveCapture(file, buffer.datagrams());

      // What the wire carried, from the proxy's events: what it received (marked when dropped), then each copy it sent.
      const expected: Array<Expected & { matches: (comment: string) => boolean }> = [];
      const inbound = new Map<string, (typeof expected)[number]>();
      const packet = (
        e: { source: Peer; destination: Peer; payload: Buffer },
        matches: (comment: string) => boolean,
      ): (typeof expected)[number] => ({
        source: e.source.address,
        destination: e.destination.address,
        sourcePort: e.source.port,
        destinationPort: e.destination.port,
        payload: e.payload.toString('hex'),
        comment: '',
        matches,
      });
      const way = (direction: string): string => (direction === 'to-server' ? 'client → server' : 'server → client');
      for (const event of events) {
        if (event.kind === 'proxy-received') {
          const received = packet(event, (comment) => comment === '');
          expected.push(received);
          inbound.set(`${event.proxyId}${event.direction}${event.seq}`, received);
        }
        if (event.kind === 'proxy-dropped') {
          inbound.get(`${event.proxyId}${event.direction}${event.seq}`)!.matches = (comment) =>
            comment === `dropped by the proxy (simulated loss, ${way(event.direction)})`;
        }
        if (event.kind === 'forwarded') {
          expected.push(
            packet(
              event,
              (comment) =>
                comment.startsWith(`forwarded ${way(event.direction)}`) &&
                comment.includes('delayed 3 ms') &&
                comment.includes('duplicate') === event.duplicate &&
                comment.includes(`corrupted (bit ${event.corruptedBit} flipped)`) === (event.corruptedBit !== undefined),
            ),
          );
        }
      }
      const proxies = workbench.runningProxies.map((p) => p.counters);
      assert.ok(
        proxies.every((c) => c.toServer.dropped > 0 && c.toClient.dropped > 0 && c.toServer.duplicated + c.toClient.duplicated > 0),
        'the seeds drop both ways and duplicate on both proxies',
      );
      assert.ok(
        proxies.every((c) => c.toServer.corrupted + c.toClient.corrupted > 0),
        'the seeds corrupt on both proxies',
      );
      assert.equal(
        expected.length,
        proxies.reduce((sum, c) => sum + c.toServer.received + c.toServer.copies + c.toClient.received + c.toClient.copies, 0),
      );
      const packets = readCapture(file);
      assert.deepEqual(
        comparable(packets).map(({ comment, ...wire }) => wire),
        expected.map(({ comment, matches, ...wire }) => wire),
      );
      packets.forEach((p, i) => assert.ok(expected[i].matches(p.comment), `packet ${i + 1}: unexpected comment "${p.comment}"`));
      assert.ok(
        packets.every((p) => p.udpChecksum === '1' && (p.source.includes(':') || p.ipChecksum === '1')),
        'checksums good',
      );
      assert.deepEqual(expertProblems(file), []);
    } finally {
      await workbench.dispose();
      for (const echo of echoes) echo.close();
    }
  });

  it('shows every datagram of a burst to a plain Node echo and every reply, with the bytes as sent', async () => {
    const { workbench, events, buffer, recorder } = recordingWorkbench();
    const echo = await outsideEcho();
    try {
      const count = 300;
      const result = await workbench.burst({
        target: { host: '127.0.0.1', port: echo.address().port },
        payload: (index) => Buffer.from(`burst datagram ${index}`),
        count,
        timeoutMs: 500,
      });
      assert.deepEqual([result.sent, result.received, result.unmatched], [count, count, 0]);
      recorder.flush();
      const sent = events.flatMap((e) => (e.kind === 'burst-sent' ? [e] : []));
      const replies = events.flatMap((e) => (e.kind === 'burst-reply' ? [e] : []));
      assert.equal(sent.length, count);
      assert.deepEqual(
        replies.map((e) => e.seq).sort((a, b) => a! - b!),
        sent.map((e) => e.seq),
      );
      const file = join(dir, 'burst.pcapng');
      await saveCapture(file, buffer.datagrams());
      const packets = readCapture(file);
      const port = echo.address().port;
      const out = packets.filter((p) => p.destinationPort === port);
      const back = packets.filter((p) => p.sourcePort === port);
      assert.equal(packets.length, 2 * count);
      assert.deepEqual(
        out.map((p) => p.payload),
        sent.map((e) => e.payload.toString('hex')),
        'each datagram as sent, its tag included',
      );
      assert.ok(out.every((p) => p.sourcePort === sent[0].local.port && p.comment === ''));
      assert.deepEqual(back.map((p) => p.payload).sort(), out.map((p) => p.payload).sort(), 'the echo sent each back');
      assert.ok(back.every((p) => /^reply after /.test(p.comment) && p.destinationPort === sent[0].local.port));
      assert.deepEqual(expertProblems(file), []);
    } finally {
      await workbench.dispose();
      echo.close();
    }
  });

  it('reads the largest IPv4 and IPv6 datagrams and an empty one, with a comment of any text', () => {
    const file = join(dir, 'sizes.pcapng');
    const big4 = Buffer.alloc(65_507, 0x5a);
    const big6 = Buffer.alloc(65_527, 0xa5);
    const comment = 'dropped: some-new-reason \\x07 ✓';
    writeFileSync(
      file,
      Buffer.concat([
        captureHeader('test'),
        packetBlock({
          atMicros: 1e15,
          source: { address: '127.0.0.1', port: 1 },
          destination: { address: '127.0.0.2', port: 65535 },
          payload: big4,
          comment,
        }),
        packetBlock({ atMicros: 1e15 + 1, source: { address: '::1', port: 2 }, destination: { address: '::1', port: 3 }, payload: big6 }),
        packetBlock({
          atMicros: 1e15 + 2,
          source: { address: '127.0.0.1', port: 4 },
          destination: { address: '127.0.0.1', port: 5 },
          payload: Buffer.alloc(0),
        }),
      ]),
    );
    const packets = readCapture(file);
    assert.deepEqual(
      packets.map((p) => [p.source, p.destination, p.sourcePort, p.destinationPort, p.payload.length / 2, p.comment]),
      [
        ['127.0.0.1', '127.0.0.2', 1, 65535, 65_507, comment],
        ['::1', '::1', 2, 3, 65_527, ''],
        ['127.0.0.1', '127.0.0.1', 4, 5, 0, ''],
      ],
    );
    assert.equal(packets[0].payload, big4.toString('hex'));
    assert.equal(packets[1].payload, big6.toString('hex'));
    assert.deepEqual(expertProblems(file), []);
    const times = readTimes(file);
    assert.deepEqual(times, ['1000000000.000000000', '1000000000.000001000', '1000000000.000002000']);
  });

  it('reports a payload changed after its checksum was computed, on a port Wireshark knows or not', () => {
    const file = join(dir, 'tampered.pcapng');
    const datagram = (port: number) =>
      packetBlock({
        atMicros: 1e15,
        source: { address: '127.0.0.1', port: 40000 },
        destination: { address: '127.0.0.1', port },
        payload: Buffer.from('via 127.0.0.1 3'),
      });
    const blocks = [captureHeader('test'), datagram(47808), datagram(33000)];
    writeFileSync(file, Buffer.concat(blocks));
    assert.deepEqual(expertProblems(file), [], 'BACnet’s port carries our text as plain data');
    for (const block of blocks.slice(1)) block[block.indexOf('via')] ^= 0x20;
    writeFileSync(file, Buffer.concat(blocks));
    assert.deepEqual(expertProblems(file), ['Errors (2)']);
  });
});

function readTimes(file: string): string[] {
  return tshark(['-r', file, '-T', 'fields', '-e', 'frame.time_epoch']).split('\n').filter(Boolean);
}
