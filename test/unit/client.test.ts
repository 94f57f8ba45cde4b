import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { sendBurst, sendDatagram } from '../../src/core/send/client';
import * as endpoint from '../../src/core/endpoint';
import { resolveHost } from '../../src/core/endpoint';
import type { ClientEvent, WorkbenchEvent } from '../../src/core/events';
import { rejection } from './assertions';
import type { SendOptions } from '../../src/core/send/sendRequest';

type Host = '127.0.0.1' | '::1';

/** A socket on an ephemeral loopback port; `answer` decides, per datagram, whether to send it back. */
class TestPeer {
  readonly received: Buffer[] = [];

  private constructor(
    private readonly socket: dgram.Socket,
    readonly host: Host,
  ) {}

  static async start(host: Host, answer: (index: number) => boolean): Promise<TestPeer> {
    const socket = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    const peer = new TestPeer(socket, host);
    socket.on('message', (message, rinfo) => {
      peer.received.push(message);
      if (answer(peer.received.length - 1)) socket.send(message, rinfo.port, rinfo.address);
    });
    return peer;
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(resolve));
  }
}

/** A loopback port that was just bound and released, so nothing listens on it. */
async function closedPort(host: Host): Promise<number> {
  const peer = await TestPeer.start(host, () => false);
  const port = peer.port;
  await peer.close();
  return port;
}

function recorder(): { events: ClientEvent[]; emit: (event: WorkbenchEvent) => void } {
  const events: ClientEvent[] = [];
  return { events, emit: (event) => events.push(event as ClientEvent) };
}

const options = (port: number, more: Partial<SendOptions> = {}): SendOptions => ({
  target: { host: '127.0.0.1', port },
  payload: Buffer.from('hello'),
  timeoutMs: 1000,
  retries: 0,
  backoff: 2,
  ...more,
});

describe('sendDatagram', () => {
  const peers: TestPeer[] = [];
  const startPeer = async (host: Host, answer: (index: number) => boolean): Promise<TestPeer> => {
    const peer = await TestPeer.start(host, answer);
    peers.push(peer);
    return peer;
  };
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((peer) => peer.close()));
  });

  for (const host of ['127.0.0.1', '::1'] as const) {
    it(`gets the reply and its round trip over ${host}`, async () => {
      const echo = await startPeer(host, () => true);
      const { events, emit } = recorder();
      const result = await sendDatagram(options(echo.port, { target: { host, port: echo.port }, emit }));

      assert.equal(result.outcome, 'reply');
      assert.equal(result.attempts, 1);
      assert.deepEqual(result.reply, Buffer.from('hello'));
      assert.deepEqual(result.from, result.target);
      assert.equal(result.target.address, host);
      assert.equal(result.local.family, host === '::1' ? 'IPv6' : 'IPv4');
      assert.ok(result.rttMs !== undefined && result.rttMs > 0 && result.rttMs < 1000, `rtt ${result.rttMs}`);
      assert.deepEqual(
        events.map((e) => e.kind),
        ['sent', 'reply'],
      );
      assert.ok(events.every((e) => e.requestId === result.requestId));
      assert.deepEqual(echo.received, [Buffer.from('hello')]);
    });
  }

  it('gives each call its own request id', async () => {
    const echo = await startPeer('127.0.0.1', () => true);
    const first = await sendDatagram(options(echo.port));
    const second = await sendDatagram(options(echo.port));
    assert.notEqual(first.requestId, second.requestId);
  });

  it('sends the largest IPv4 datagram, 65,507 bytes, and gets it back whole', async () => {
    const echo = await startPeer('127.0.0.1', () => true);
    const payload = Buffer.alloc(65_507, 0x5a);
    const result = await sendDatagram(options(echo.port, { payload }));
    assert.equal(result.reply?.length, 65_507);
  });

  it("only sends when no reply is expected, and says 'sent'", async () => {
    const sink = await startPeer('127.0.0.1', () => false);
    const { events, emit } = recorder();
    const result = await sendDatagram(options(sink.port, { expectReply: false, retries: 3, emit }));
    assert.equal(result.outcome, 'sent');
    assert.equal(result.attempts, 1);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['sent'],
    );
  });

  it('waits longer each retry, then gives up with a timeout', async () => {
    const silent = await startPeer('127.0.0.1', () => false);
    const { events, emit } = recorder();
    const started = performance.now();
    const result = await sendDatagram(options(silent.port, { timeoutMs: 50, retries: 2, backoff: 2, emit }));
    const elapsed = performance.now() - started;

    assert.equal(result.outcome, 'timeout');
    assert.equal(result.attempts, 3);
    assert.equal(result.reply, undefined);
    const sent = events.filter((e) => e.kind === 'sent');
    assert.deepEqual(
      sent.map((e) => e.attempt),
      [1, 2, 3],
    );
    const timeouts = events.filter((e) => e.kind === 'timeout');
    assert.deepEqual(
      timeouts.map((e) => [e.attempt, e.timeoutMs, e.willRetry]),
      [
        [1, 50, true],
        [2, 100, true],
        [3, 200, false],
      ],
    );
    assert.equal(silent.received.length, 3);
    // 50 + 100 + 200 ms, with room for a slow machine.
    assert.ok(elapsed >= 340 && elapsed < 1500, `took ${elapsed} ms`);
  });

  it('succeeds on a retry when the first datagram goes unanswered', async () => {
    const second = await startPeer('127.0.0.1', (index) => index === 1);
    const { events, emit } = recorder();
    const result = await sendDatagram(options(second.port, { timeoutMs: 50, retries: 2, emit }));

    assert.equal(result.outcome, 'reply');
    assert.equal(result.attempts, 2);
    assert.ok(result.rttMs !== undefined && result.rttMs < 50, `rtt ${result.rttMs} is timed from the second send`);
    assert.deepEqual(
      events.map((e) => (e.kind === 'timeout' ? `timeout ${e.willRetry}` : `${e.kind}`)),
      ['sent', 'timeout true', 'sent', 'reply'],
    );
  });

  it('reports CONNECTION_REFUSED when nothing listens on the port, and emits it', async () => {
    const port = await closedPort('127.0.0.1');
    const { events, emit } = recorder();
    const error = await rejection(sendDatagram(options(port, { emit })));

    assert.equal(error.code, 'CONNECTION_REFUSED');
    assert.equal(error.message, `Nothing is listening on 127.0.0.1:${port} (the host answered 'port unreachable').`);
    assert.equal(error.hint, 'Start an echo server there (UDP: Start Echo Server) or check the port.');
    assert.equal(error.fix, 'start-server');
    const failed = events.at(-1);
    assert.equal(failed?.kind, 'send-failed');
    assert.equal(failed.error, error);
  });

  it('reports FAMILY_MISMATCH when localhost resolves to ::1 and only 127.0.0.1 listens', async () => {
    const ipv4Only = await startPeer('127.0.0.1', () => true);
    const localhostHasIpv6 = (await resolveHost('localhost', 6).catch(() => undefined))?.address === '::1';
    // Where /etc/hosts gives localhost no ::1, answer as a resolver that does; the socket work stays real.
    const restore = localhostHasIpv6 ? () => {} : resolveLocalhostTo('::1');
    try {
      const error = await rejection(
        sendDatagram(options(ipv4Only.port, { target: { host: 'localhost', port: ipv4Only.port, family: 6 } })),
      );
      assert.equal(error.code, 'FAMILY_MISMATCH');
      assert.equal(error.message, 'localhost resolved to ::1 (IPv6), and nothing listens there; a server on 127.0.0.1 does not hear IPv6.');
      assert.equal(error.hint, `Send to 127.0.0.1:${ipv4Only.port} instead, or start the server on ::1.`);
      assert.equal(error.fix, 'use-ipv4');
    } finally {
      restore();
    }
    assert.equal(ipv4Only.received.length, 0);
  });

  it('reports CONNECTION_REFUSED, not a family mismatch, for ::1 typed as an address', async () => {
    const port = await closedPort('::1');
    const error = await rejection(sendDatagram(options(port, { target: { host: '::1', port } })));
    assert.equal(error.code, 'CONNECTION_REFUSED');
  });

  it('reports UNKNOWN_HOST for a name that does not resolve, before any socket or event', async () => {
    const { events, emit } = recorder();
    const error = await rejection(sendDatagram(options(9, { target: { host: 'no-such-host.invalid', port: 9 }, emit })));
    assert.equal(error.code, 'UNKNOWN_HOST');
    assert.deepEqual(events, []);
  });

  it('reports DATAGRAM_TOO_LARGE for 65,508 bytes over IPv4 without sending', async () => {
    const echo = await startPeer('127.0.0.1', () => true);
    const { events, emit } = recorder();
    const error = await rejection(sendDatagram(options(echo.port, { payload: Buffer.alloc(65_508), emit })));
    assert.equal(error.code, 'DATAGRAM_TOO_LARGE');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['send-failed'],
    );
    assert.equal(echo.received.length, 0);
  });

  it('stops waiting with CANCELLED when the signal aborts', async () => {
    const silent = await startPeer('127.0.0.1', () => false);
    const controller = new AbortController();
    const { events, emit } = recorder();
    setTimeout(() => controller.abort(), 20);
    const started = performance.now();
    const error = await rejection(sendDatagram(options(silent.port, { timeoutMs: 5000, emit, signal: controller.signal })));

    assert.equal(error.code, 'CANCELLED');
    assert.ok(performance.now() - started < 1000);
    assert.deepEqual(
      events.map((e) => e.kind),
      ['sent', 'send-failed'],
    );
  });

  it('sends nothing when the signal is already aborted', async () => {
    const silent = await startPeer('127.0.0.1', () => false);
    const error = await rejection(sendDatagram(options(silent.port, { signal: AbortSignal.abort() })));
    assert.equal(error.code, 'CANCELLED');
    assert.equal(silent.received.length, 0);
  });

  it('rejects settings that would wait forever or never stop', async () => {
    for (const bad of [{ timeoutMs: 0 }, { retries: -1 }, { retries: 1.5 }, { retries: 21 }, { backoff: 0.5 }, { timeoutMs: Number.NaN }]) {
      const error = await rejection(sendDatagram(options(9, bad)));
      assert.equal(error.code, 'BAD_SETTING', JSON.stringify(bad));
    }
    // Numbers in messages carry thousands separators, like every other count the user reads.
    assert.match((await rejection(sendDatagram(options(9, { timeoutMs: 0 })))).message, /from 1 to 600,000\.$/);
  });

  it('leaves no socket or timer behind on any path, bursts included', async () => {
    const echo = await startPeer('127.0.0.1', () => true);
    const silent = await startPeer('127.0.0.1', () => false);
    const refused = await closedPort('127.0.0.1');
    const before = await openHandles();

    await sendDatagram(options(echo.port));
    await sendDatagram(options(echo.port, { expectReply: false }));
    await sendDatagram(options(silent.port, { timeoutMs: 20, retries: 1 }));
    await rejection(sendDatagram(options(refused)));
    await rejection(sendDatagram(options(echo.port, { payload: Buffer.alloc(65_508) })));
    await rejection(sendDatagram(options(silent.port, { signal: AbortSignal.timeout(20) })));
    const burst = { target: { host: '127.0.0.1', port: echo.port }, payload: Buffer.from('x'), timeoutMs: 20, count: 20 };
    await sendBurst(burst);
    await sendBurst({ ...burst, target: { host: '127.0.0.1', port: silent.port }, window: 4 });
    await rejection(sendBurst({ ...burst, target: { host: '127.0.0.1', port: refused }, ratePerSecond: 1000 }));
    const cancelled = await sendBurst({
      ...burst,
      target: { host: '127.0.0.1', port: silent.port },
      ratePerSecond: 100,
      signal: AbortSignal.timeout(30),
    });
    assert.equal(cancelled.cancelled, true);
    await sendBurst({ ...burst, count: 5000, ratePerSecond: 1_000_000, tag: false });

    assert.deepEqual(await openHandles(), before);
  });
});

/** Makes `localhost` resolve to `address` for IPv6 lookups; returns the undo. */
function resolveLocalhostTo(address: string): () => void {
  const exports = endpoint as { resolveHost: typeof resolveHost };
  const real = exports.resolveHost;
  exports.resolveHost = async (host, family) => (host === 'localhost' && family === 6 ? { address, family: 6 } : real(host, family));
  return () => (exports.resolveHost = real);
}

async function openHandles(): Promise<{ timers: number; sockets: number }> {
  // A closed socket's handle is released on a later turn of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const resources = process.getActiveResourcesInfo();
  return {
    timers: resources.filter((name) => name === 'Timeout').length,
    sockets: resources.filter((name) => name === 'UDPWrap').length,
  };
}
