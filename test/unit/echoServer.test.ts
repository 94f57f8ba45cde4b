import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as path from 'node:path';
import { EchoServer, guardedReply, type EchoServerOptions, type ServerCounters } from '../../src/core/server/echoServer';
import { isWorkbenchError, type WorkbenchErrorCode } from '../../src/core/errors';
import type { DropReason, Peer, ServerEvent, WorkbenchEvent } from '../../src/core/events';
import { Impairment, NO_SIMULATION } from '../../src/core/impairment/impairment';
import { socketsOn } from './sockets';
import type { SimulationSettings } from '../../src/core/configuration';

type Loopback = '127.0.0.1' | '::1';
type EventOf<K extends ServerEvent['kind']> = Extract<ServerEvent, { kind: K }>;

const WAIT_MS = 2000;

/** Collects a server's events and lets a test wait for one. */
class Recorder {
  readonly events: ServerEvent[] = [];
  private readonly waiters = new Set<() => void>();

  readonly emit = (event: WorkbenchEvent): void => {
    this.events.push(event as ServerEvent);
    for (const wake of this.waiters) wake();
  };

  of<K extends ServerEvent['kind']>(kind: K): Array<EventOf<K>> {
    return this.events.filter((event): event is EventOf<K> => event.kind === kind);
  }

  waitFor(match: (event: ServerEvent) => boolean, what: string): Promise<ServerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.events.find(match);
        if (!found) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} event within ${WAIT_MS} ms`));
      }, WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  outcome(seq: number): Promise<ServerEvent> {
    return this.waitFor((event) => (event.kind === 'dropped' || event.kind === 'replied') && event.seq === seq, `reply or drop of #${seq}`);
  }
}

/** A client socket on loopback that queues what it receives. */
class Client {
  private readonly inbox: Buffer[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (message) => {
      this.inbox.push(message);
      this.wake?.();
    });
  }

  static open(host: Loopback): Promise<Client> {
    const socket = dgram.createSocket(host === '::1' ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve(new Client(socket)));
    });
  }

  send(payload: string | Buffer, to: Peer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(payload, to.port, to.address, (error) => (error ? reject(error) : resolve())));
  }

  /** The next datagram, or a rejection after `timeoutMs`. */
  async next(timeoutMs = WAIT_MS): Promise<Buffer> {
    if (this.inbox.length === 0) await this.arrival(timeoutMs);
    const message = this.inbox.shift();
    if (message === undefined) throw new Error(`no reply within ${timeoutMs} ms`);
    return message;
  }

  async nothingFor(ms: number): Promise<void> {
    await this.arrival(ms);
    assert.deepEqual(this.inbox, [], 'expected no datagram');
  }

  close(): void {
    this.socket.close();
  }

  private arrival(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      this.wake = done;
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

const servers: EchoServer[] = [];
const clients: Client[] = [];

async function start(options: Partial<EchoServerOptions> = {}): Promise<{ server: EchoServer; recorder: Recorder }> {
  const recorder = new Recorder();
  const server = await EchoServer.start({ host: '127.0.0.1', port: 0, emit: recorder.emit, ...options });
  servers.push(server);
  return { server, recorder };
}

async function client(host: Loopback = '127.0.0.1'): Promise<Client> {
  const opened = await Client.open(host);
  clients.push(opened);
  return opened;
}

function simulation(changes: Partial<SimulationSettings>): SimulationSettings {
  return { ...NO_SIMULATION, ...changes };
}

function assertInvariant(counters: ServerCounters): void {
  const { received, answered, dropped, rateLimited, listened, cancelled, pending } = counters;
  assert.equal(received, answered + dropped + rateLimited + listened + cancelled + pending, JSON.stringify(counters));
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 10) {
    if (waited >= WAIT_MS) throw new Error(`${what} did not happen within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Open UDP sockets in this process, to check that a failed start leaves none behind. */
async function openUdpSockets(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return process.getActiveResourcesInfo().filter((name) => name === 'UDPWrap').length;
}

function failsWith(code: WorkbenchErrorCode, check: (error: { message: string; hint: string; fix?: string }) => boolean = () => true) {
  return (error: unknown): boolean => isWorkbenchError(error) && error.code === code && check(error);
}

describe('EchoServer', () => {
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop()));
    for (const opened of clients.splice(0)) opened.close();
  });

  describe('replies', () => {
    for (const host of ['127.0.0.1', '::1'] as const) {
      it(`mirrors a datagram over ${host === '::1' ? 'IPv6' : 'IPv4'}`, async () => {
        const { server, recorder } = await start({ host });
        const sender = await client(host);
        await sender.send('hello', server.local);
        assert.equal((await sender.next()).toString(), 'hello');
        assert.equal(server.local.address, host);
        assert.equal(server.local.family, host === '::1' ? 'IPv6' : 'IPv4');
        assert.deepEqual(
          recorder.events.map((event) => event.kind),
          ['server-started', 'received', 'replied'],
        );
        const [started] = recorder.of('server-started');
        assert.deepEqual(started.local, server.local);
        assert.equal(started.exposed, false);
        assert.equal(server.exposed, false);
        const [received] = recorder.of('received');
        assert.equal(received.seq, 1);
        assert.equal(received.payload.toString(), 'hello');
        assert.equal(received.serverId, server.id);
        const [replied] = recorder.of('replied');
        assert.deepEqual(
          {
            seq: replied.seq,
            delayMs: replied.delayMs,
            duplicate: replied.duplicate,
            reordered: replied.reordered,
            truncated: replied.truncated,
          },
          { seq: 1, delayMs: 0, duplicate: false, reordered: false, truncated: false },
        );
        assert.equal(replied.payload.toString(), 'hello');
        assert.equal(replied.peer.port, received.peer.port);
      });
    }

    it('on ::, answers IPv4 and IPv6 on the same port, from two sockets, and reports IPv4 peers as IPv4', async () => {
      const { server, recorder } = await start({ host: '::' });
      assert.deepEqual([server.local.address, server.local.family, server.exposed], ['::', 'IPv6', true]);
      assert.equal(socketsOn(server.local.port).length, 2, 'an IPv6-only socket and an IPv4 socket');
      for (const host of ['127.0.0.1', '::1'] as const) {
        const sender = await client(host);
        await sender.send(`over ${host}`, { ...server.local, address: host });
        assert.equal((await sender.next()).toString(), `over ${host}`);
      }
      // A dual-stack socket would report ::ffff:127.0.0.1, which a forged IPv6 packet can also claim.
      assert.deepEqual(
        recorder.of('received').map((event) => [event.peer.address, event.peer.family]),
        [
          ['127.0.0.1', 'IPv4'],
          ['::1', 'IPv6'],
        ],
      );
    });

    it('binds an IPv4-mapped address as the IPv4 address it stands for', async () => {
      const { server } = await start({ host: '::ffff:127.0.0.1' });
      assert.deepEqual([server.local.address, server.local.family, server.exposed], ['127.0.0.1', 'IPv4', false]);
      const sender = await client();
      await sender.send('mapped', server.local);
      assert.equal((await sender.next()).toString(), 'mapped');
    });

    it('answers every datagram of a burst read in one turn, in the order they came', async () => {
      const { server, recorder } = await start();
      const sender = await client();
      const payloads = Array.from({ length: 200 }, (_, i) => `datagram ${i}`);
      await Promise.all(payloads.map((payload) => sender.send(payload, server.local)));
      const replies: string[] = [];
      for (let i = 0; i < payloads.length; i++) replies.push((await sender.next()).toString());
      assert.deepEqual(replies, payloads);
      assert.deepEqual(
        recorder.of('replied').map((event) => event.seq),
        payloads.map((_, i) => i + 1),
      );
      assert.equal(server.counters.answered, payloads.length);
      assertInvariant(server.counters);
    });

    it('fills in the template', async () => {
      const { server } = await start({ replyMode: 'template', template: 'got ${text} as #${seq}' });
      const sender = await client();
      await sender.send('ping', server.local);
      assert.equal((await sender.next()).toString(), 'got ping as #1');
      await sender.send('pong', server.local);
      assert.equal((await sender.next()).toString(), 'got pong as #2');
    });

    it('only listens in none mode', async () => {
      const { server, recorder } = await start({ replyMode: 'none' });
      const sender = await client();
      await sender.send('quiet', server.local);
      await recorder.waitFor((event) => event.kind === 'received', 'received');
      await sender.nothingFor(150);
      assert.equal(server.counters.listened, 1);
      assert.equal(server.counters.replies, 0);
    });

    it('changes reply mode and template while running', async () => {
      const { server, recorder } = await start();
      const sender = await client();
      await sender.send('a', server.local);
      assert.equal((await sender.next()).toString(), 'a');
      server.setReply('none');
      await sender.send('b', server.local);
      await recorder.waitFor((event) => event.kind === 'received' && event.seq === 2, 'received #2');
      await sender.nothingFor(100);
      server.setReply('template', 'n=${seq}');
      assert.deepEqual([server.replyMode, server.template], ['template', 'n=${seq}']);
      await sender.send('c', server.local);
      assert.equal((await sender.next()).toString(), 'n=3');
    });

    it('runs several servers at once, each on its own real port', async () => {
      const started = await Promise.all([start(), start(), start({ host: '::1' }), start({ id: 'mine' })]);
      const ports = started.map(({ server }) => server.local.port);
      for (const port of ports) assert.ok(port > 0 && port <= 65535, `port ${port}`);
      assert.equal(new Set(ports.map((port, i) => `${started[i].server.local.address} ${port}`)).size, 4);
      const ids = started.map(({ server }) => server.id);
      assert.equal(new Set(ids).size, 4);
      assert.equal(ids[3], 'mine');
      for (const id of ids.slice(0, 3)) assert.match(id, /^udp-\d+$/);
      for (const { server } of started) {
        const sender = await client(server.local.family === 'IPv6' ? '::1' : '127.0.0.1');
        await sender.send(`to ${server.id}`, server.local);
        assert.equal((await sender.next()).toString(), `to ${server.id}`);
      }
    });

    it('survives a reply that cannot be sent, and keeps answering', async () => {
      // 40,000 bytes as hex is 80,000: too large for one datagram, so the socket refuses to send it.
      const { server, recorder } = await start({ replyMode: 'template', template: '${hex}' });
      const sender = await client();
      await sender.send(Buffer.alloc(40_000, 0xab), server.local);
      const dropped = await recorder.outcome(1);
      assert.equal(dropped.kind === 'dropped' && dropped.reason, 'send-failed');
      const [failure] = recorder.of('server-error');
      assert.equal(failure.error.code, 'DATAGRAM_TOO_LARGE');
      assert.match(failure.error.message, /^A reply of 80,000 bytes to .* too large for one datagram\.$/);
      assert.match(failure.error.hint, /at most 65,507 bytes/);
      await sender.send('ok', server.local);
      assert.equal((await sender.next()).toString(), '6f6b');
      assert.equal(server.running, true);
      const counters = server.counters;
      assert.deepEqual([counters.dropped, counters.droppedBy['send-failed'], counters.answered], [1, 1, 1]);
      assertInvariant(counters);
    });
  });

  describe('simulation', () => {
    it('drops exactly what an Impairment with the same seed predicts, each with a dropped event', async () => {
      const N = 200;
      const settings = simulation({ seed: 2024, dropInbound: 0.15, dropOutbound: 0.15 });
      const replay = new Impairment(settings);
      const expected = new Map<number, DropReason>();
      for (let seq = 1; seq <= N; seq++) {
        if (replay.dropsInbound()) expected.set(seq, 'simulated-loss-inbound');
        else if (replay.planReply().dropped) expected.set(seq, 'simulated-loss-outbound');
      }
      const reasons = [...expected.values()];
      assert.ok(
        reasons.includes('simulated-loss-inbound') && reasons.includes('simulated-loss-outbound'),
        'the seed should drop both ways',
      );

      const { server, recorder } = await start({ simulation: settings });
      const sender = await client();
      for (let seq = 1; seq <= N; seq++) {
        const outcome = recorder.outcome(seq);
        await sender.send(`datagram ${seq}`, server.local);
        if ((await outcome).kind === 'replied') assert.equal((await sender.next()).toString(), `datagram ${seq}`);
      }

      assert.deepEqual(new Map(recorder.of('dropped').map((event) => [event.seq, event.reason])), expected);
      const counters = server.counters;
      assert.equal(counters.received, N);
      assert.equal(counters.dropped, expected.size);
      assert.equal(counters.answered, N - expected.size);
      assert.equal(counters.droppedBy['simulated-loss-inbound'], reasons.filter((reason) => reason === 'simulated-loss-inbound').length);
      assertInvariant(counters);
    });

    it('delays replies measurably', async () => {
      const { server, recorder } = await start({ simulation: simulation({ delayMs: 150 }) });
      const sender = await client();
      const sentAt = performance.now();
      await sender.send('slow', server.local);
      await sender.next();
      const waited = performance.now() - sentAt;
      assert.ok(waited >= 145, `the reply came after ${waited.toFixed(1)} ms`);
      assert.equal(recorder.of('replied')[0].delayMs, 150);
    });

    it('bounds the replies waiting for their delay by count, dropping the rest with a reason', async () => {
      const { server, recorder } = await start({
        simulation: simulation({ delayMs: 5000 }),
        delayQueue: { maxReplies: 3, maxBytes: 1_000_000 },
      });
      const sender = await client();
      for (let i = 1; i <= 5; i++) await sender.send(`wait ${i}`, server.local);
      await recorder.waitFor((event) => event.kind === 'dropped' && event.seq === 5, 'dropped #5');
      assert.deepEqual(
        recorder.of('dropped').map((event) => [event.seq, event.reason]),
        [
          [4, 'delay-queue-full'],
          [5, 'delay-queue-full'],
        ],
      );
      const counters = server.counters;
      assert.deepEqual([counters.pending, counters.dropped, counters.droppedBy['delay-queue-full']], [3, 2, 2]);
      assertInvariant(counters);
    });

    it('bounds the bytes of replies waiting for their delay, and frees their place once sent', async () => {
      const { server, recorder } = await start({ simulation: simulation({ delayMs: 100 }), delayQueue: { maxReplies: 100, maxBytes: 10 } });
      const sender = await client();
      await sender.send('8 bytes!', server.local);
      await sender.send('8 more!!', server.local);
      const second = await recorder.outcome(2);
      assert.equal(second.kind === 'dropped' && second.reason, 'delay-queue-full');
      assert.equal((await sender.next()).toString(), '8 bytes!');
      await until(() => server.counters.pending === 0, 'the first reply settled');
      await sender.send('room now', server.local);
      assert.equal((await sender.next()).toString(), 'room now');
      assertInvariant(server.counters);
    });

    it('rejects delay queue limits that are not whole numbers', async () => {
      await assert.rejects(
        start({ delayQueue: { maxReplies: -1, maxBytes: 10 } }),
        failsWith('BAD_SETTING', (error) => error.message.includes('maxReplies')),
      );
      await assert.rejects(
        start({ delayQueue: { maxReplies: 1, maxBytes: 0.5 } }),
        failsWith('BAD_SETTING', (error) => error.message.includes('maxBytes')),
      );
    });

    it('duplicates a reply', async () => {
      const { server, recorder } = await start({ simulation: simulation({ duplicate: 1 }) });
      const sender = await client();
      await sender.send('twice', server.local);
      assert.equal((await sender.next()).toString(), 'twice');
      assert.equal((await sender.next()).toString(), 'twice');
      assert.deepEqual(
        recorder.of('replied').map((event) => event.duplicate),
        [false, true],
      );
      assert.deepEqual([server.counters.answered, server.counters.replies], [1, 2]);
    });

    it('reorders: a held-back reply is overtaken by a later one', async () => {
      const { server, recorder } = await start({ simulation: simulation({ reorder: 1 }) });
      const sender = await client();
      await sender.send('first', server.local);
      await recorder.waitFor((event) => event.kind === 'received', 'received #1');
      server.configureSimulation(NO_SIMULATION);
      await sender.send('second', server.local);
      assert.equal((await sender.next()).toString(), 'second');
      assert.equal((await sender.next()).toString(), 'first');
      assert.deepEqual(
        recorder.of('replied').map((event) => [event.seq, event.reordered]),
        [
          [2, false],
          [1, true],
        ],
      );
    });

    it('restarts the random sequence when the simulation changes', async () => {
      const settings = simulation({ seed: 99, dropInbound: 0.5 });
      const { server, recorder } = await start({ simulation: settings });
      const sender = await client();
      const run = async (from: number): Promise<boolean[]> => {
        const dropped: boolean[] = [];
        for (let seq = from; seq < from + 20; seq++) {
          const outcome = recorder.outcome(seq);
          await sender.send('x', server.local);
          dropped.push((await outcome).kind === 'dropped');
          if (!dropped.at(-1)) await sender.next();
        }
        return dropped;
      };
      const first = await run(1);
      server.configureSimulation(settings);
      assert.deepEqual(await run(21), first);
      assert.deepEqual(server.simulation, settings);
    });

    it('rejects invalid simulation settings and keeps the old ones', async () => {
      await assert.rejects(start({ simulation: simulation({ dropInbound: 2 }) }), failsWith('BAD_SETTING'));
      const { server } = await start();
      assert.throws(() => server.configureSimulation(simulation({ delayMs: -1 })), failsWith('BAD_SETTING'));
      assert.deepEqual(server.simulation, NO_SIMULATION);
    });
  });

  describe('protection', () => {
    it('never answers a peer on another machine with more bytes than it sent (amplification guard)', () => {
      const reply = Buffer.from('Data received: a template reply longer than its request');
      const cut = guardedReply(reply, 4, '203.0.113.7');
      assert.equal(cut.toString(), 'Data');
      assert.equal(guardedReply(reply, 4, '2001:db8::7').length, 4);
      // Loopback peers, in every spelling, are this machine: their replies are not cut.
      for (const loopback of ['127.0.0.1', '127.9.9.9', '::1', '::ffff:127.0.0.1']) {
        assert.equal(guardedReply(reply, 4, loopback), reply, loopback);
      }
      // A reply no larger than its request is sent as it is.
      assert.equal(guardedReply(reply, reply.length, '203.0.113.7'), reply);
    });

    it('rate-limits a peer that sends too fast', async () => {
      const { server, recorder } = await start({ rateLimit: { perSecond: 1, burst: 2, exemptLoopback: false } });
      const sender = await client();
      const outcomes: string[] = [];
      for (let seq = 1; seq <= 5; seq++) {
        const outcome = recorder.outcome(seq);
        await sender.send('x', server.local);
        const event = await outcome;
        outcomes.push(event.kind === 'dropped' ? event.reason : event.kind);
      }
      assert.deepEqual(outcomes, ['replied', 'replied', 'rate-limited', 'rate-limited', 'rate-limited']);
      const counters = server.counters;
      assert.deepEqual([counters.rateLimited, counters.droppedBy['rate-limited'], counters.dropped], [3, 3, 0]);
      assertInvariant(counters);
    });

    it('keeps what each peer has left when the rate limit changes: no fresh burst', async () => {
      const { server, recorder } = await start({ rateLimit: { perSecond: 0.01, burst: 2, exemptLoopback: false } });
      const sender = await client();
      const outcomes: string[] = [];
      const sendOne = async (seq: number): Promise<void> => {
        const outcome = recorder.outcome(seq);
        await sender.send('x', server.local);
        const event = await outcome;
        outcomes.push(event.kind === 'dropped' ? event.reason : event.kind);
      };
      await sendOne(1);
      await sendOne(2);
      server.configureProtection({ perSecond: 0.01, burst: 5, exemptLoopback: false }, false);
      await sendOne(3);
      server.configureProtection({ perSecond: 0.01, burst: 5, exemptLoopback: false }, true);
      await sendOne(4);
      assert.deepEqual(outcomes, ['replied', 'replied', 'rate-limited', 'rate-limited']);
    });

    it('takes a new rate limit live, and lifts it again', async () => {
      const { server, recorder } = await start({ rateLimit: false });
      const sender = await client();
      const outcomes: string[] = [];
      const sendOne = async (seq: number): Promise<void> => {
        const outcome = recorder.outcome(seq);
        await sender.send('x', server.local);
        const event = await outcome;
        outcomes.push(event.kind === 'dropped' ? event.reason : event.kind);
      };
      await sendOne(1);
      server.configureProtection({ perSecond: 1, burst: 1, exemptLoopback: false }, false);
      await sendOne(2);
      await sendOne(3);
      server.configureProtection(false, false);
      await sendOne(4);
      assert.deepEqual(outcomes, ['replied', 'replied', 'rate-limited', 'replied']);
      assertInvariant(server.counters);
    });
  });

  describe('counters', () => {
    it('keep received === answered + dropped + rateLimited + listened + cancelled + pending', async () => {
      const { server } = await start({
        simulation: simulation({ seed: 5, dropInbound: 0.2, dropOutbound: 0.2, duplicate: 0.3, delayMs: 5, jitterMs: 10 }),
        rateLimit: { perSecond: 50, burst: 30, exemptLoopback: false },
      });
      const sender = await client();
      let sentBytes = 0;
      const send = async (text: string): Promise<void> => {
        sentBytes += text.length;
        await sender.send(text, server.local);
      };
      for (let i = 0; i < 40; i++) await send(`mixed ${i}`);
      await until(() => server.counters.received === 40 && server.counters.pending === 0, 'all 40 settled');
      server.setReply('none');
      server.configureSimulation(NO_SIMULATION);
      // Refills at least 5 tokens.
      await new Promise((resolve) => setTimeout(resolve, 200));
      for (let i = 0; i < 5; i++) await send(`listened ${i}`);
      await until(() => server.counters.received === 45, 'all 45 received');

      const counters = server.counters;
      assertInvariant(counters);
      for (const name of ['answered', 'dropped', 'rateLimited', 'listened'] as const) assert.ok(counters[name] > 0, `${name} is 0`);
      assert.equal(counters.listened, 5);
      assert.ok(counters.replies > counters.answered, 'some replies were duplicated');
      const { 'rate-limited': rateLimited, ...others } = counters.droppedBy;
      assert.equal(rateLimited, counters.rateLimited);
      assert.equal(
        Object.values(others).reduce((sum, count) => sum + count, 0),
        counters.dropped,
      );
      assert.equal(counters.bytesReceived, sentBytes);
      assert.ok(counters.bytesSent > 0);
    });

    it('already add up while a received event is being delivered', async () => {
      const seen: ServerCounters[] = [];
      const recorder = new Recorder();
      const server = await EchoServer.start({
        host: '127.0.0.1',
        port: 0,
        simulation: simulation({ seed: 3, dropInbound: 0.3, delayMs: 20 }),
        rateLimit: { perSecond: 1, burst: 4, exemptLoopback: false },
        emit: (event) => {
          if (event.kind === 'received') seen.push(server.counters);
          recorder.emit(event);
        },
      });
      servers.push(server);
      const sender = await client();
      for (let i = 0; i < 12; i++) await sender.send(`n${i}`, server.local);
      await until(() => server.counters.received === 12 && server.counters.pending === 0, 'all 12 settled');
      assert.equal(seen.length, 12);
      for (const counters of seen) assertInvariant(counters);
      const last = server.counters;
      assert.ok(last.rateLimited > 0 && last.dropped > 0 && last.answered > 0, JSON.stringify(last));
    });

    it('are a snapshot', async () => {
      const { server } = await start();
      const counters = server.counters;
      counters.received = 99;
      assert.equal(server.counters.received, 0);
    });
  });

  describe('start failures', () => {
    it('reports PORT_IN_USE with a fix, and leaves no socket open', async () => {
      const holder = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
      try {
        const port = holder.address().port;
        const before = await openUdpSockets();
        await assert.rejects(
          EchoServer.start({ host: '127.0.0.1', port }),
          failsWith(
            'PORT_IN_USE',
            (error) =>
              error.message === `Port ${port} on 127.0.0.1 is already in use.` &&
              error.hint === 'Stop the program using it, or pick another port (0 picks any free one).' &&
              error.fix === 'use-another-port',
          ),
        );
        assert.equal(await openUdpSockets(), before);
      } finally {
        holder.close();
      }
    });

    it('reports ADDRESS_NOT_AVAILABLE for an address this machine does not have', async () => {
      // TEST-NET-1: never assigned to a real machine. Only bound, nothing is sent.
      await assert.rejects(
        EchoServer.start({ host: '192.0.2.1', port: 0 }),
        failsWith('ADDRESS_NOT_AVAILABLE', (error) => error.message.includes('192.0.2.1') && error.fix === 'open-settings'),
      );
    });

    it('on :: with a given port, says which family found the port busy, and leaves no socket open', async () => {
      const holder = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
      try {
        const port = holder.address().port;
        const before = await openUdpSockets();
        // 127.0.0.1 holds it for IPv4, so binding 0.0.0.0 on it fails after the IPv6 socket bound.
        await assert.rejects(
          EchoServer.start({ host: '::', port }),
          failsWith('PORT_IN_USE', (error) => error.message === `Port ${port} on 0.0.0.0 is already in use.`),
        );
        assert.equal(await openUdpSockets(), before);
      } finally {
        holder.close();
      }
    });

    it('reports TOO_MANY_OPEN_FILES with a hint when the process has no file descriptor left (bind and send)', function () {
      this.timeout(30_000);
      const fixture = path.join(__dirname, 'fixtures', 'openFiles.js');
      // A low open-file limit for the child only; it opens servers, then sends, until the limit stops it.
      const output = execFileSync('/bin/sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" "${fixture}"`], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      const result = JSON.parse(output) as Record<'bind' | 'send', { code: string; message: string; hint: string } | undefined>;
      for (const side of ['bind', 'send'] as const) {
        assert.equal(result[side]?.code, 'TOO_MANY_OPEN_FILES', output);
        assert.match(result[side]!.message, /too many files and sockets are open/);
        assert.match(result[side]!.hint, /ulimit -n/);
      }
    });

    it('reports PORT_OUT_OF_RANGE before opening a socket', async () => {
      for (const port of [65536, -1, 1.5]) {
        await assert.rejects(EchoServer.start({ host: '127.0.0.1', port }), failsWith('PORT_OUT_OF_RANGE'), `port ${port}`);
      }
    });

    it('reports BAD_TEMPLATE before opening a socket', async () => {
      const before = await openUdpSockets();
      await assert.rejects(
        EchoServer.start({ host: '127.0.0.1', port: 0, replyMode: 'template', template: '${nope}' }),
        failsWith('BAD_TEMPLATE'),
      );
      await assert.rejects(EchoServer.start({ host: '127.0.0.1', port: 0, replyMode: 'template' }), failsWith('BAD_TEMPLATE'));
      await assert.rejects(EchoServer.start({ host: '127.0.0.1', port: 0, replyMode: 'echo' as 'mirror' }), failsWith('BAD_SETTING'));
      assert.equal(await openUdpSockets(), before);
    });

    it('rejects a bad template while running and keeps replying as before', async () => {
      const { server } = await start();
      assert.throws(() => server.setReply('template', '${nope}'), failsWith('BAD_TEMPLATE'));
      assert.equal(server.replyMode, 'mirror');
      const sender = await client();
      await sender.send('still', server.local);
      assert.equal((await sender.next()).toString(), 'still');
    });
  });

  describe('stop', () => {
    it('is idempotent, reports once, and frees the port at once', async () => {
      const { server, recorder } = await start();
      const { port } = server.local;
      const first = server.stop();
      assert.equal(server.running, false);
      assert.equal(server.stop(), first);
      await first;
      await server.stop();
      server.dispose();
      assert.equal(recorder.of('server-stopped').length, 1);
      assert.deepEqual(recorder.of('server-stopped')[0].local, server.local);

      const again = await EchoServer.start({ host: '127.0.0.1', port });
      servers.push(again);
      assert.equal(again.local.port, port);
    });

    it('sends the reply it decided in the same turn as the stop, and counts it answered', async () => {
      const recorder = new Recorder();
      let stopping: Promise<void> | undefined;
      const server = await EchoServer.start({
        host: '127.0.0.1',
        port: 0,
        emit: (event) => {
          recorder.emit(event);
          // In the turn the datagram arrived, before its reply has left.
          if (event.kind === 'received') stopping = server.stop();
        },
      });
      servers.push(server);
      const sender = await client();
      await sender.send('last words', server.local);
      assert.equal((await sender.next()).toString(), 'last words');
      await until(() => stopping !== undefined, 'the stop');
      await stopping;
      assert.equal(recorder.of('server-error').length, 0, JSON.stringify(recorder.of('server-error')));
      assert.deepEqual(
        recorder.events.map((event) => event.kind),
        ['server-started', 'received', 'replied', 'server-stopped'],
      );
      const counters = server.counters;
      assert.equal(counters.answered, 1);
      assert.equal(counters.pending, 0);
      assertInvariant(counters);
    });

    it('notices its socket closed from outside: reports it, counts as stopped, and stop() still resolves', async () => {
      for (const host of ['127.0.0.1', '::'] as const) {
        const { server, recorder } = await start({ host, simulation: simulation({ delayMs: 5000 }) });
        const sender = await client();
        await sender.send('late', { ...server.local, address: '127.0.0.1' });
        await recorder.waitFor((event) => event.kind === 'received', 'received');
        const sockets = socketsOn(server.local.port);
        sockets[0].close();
        await recorder.waitFor((event) => event.kind === 'server-stopped', 'server-stopped');
        assert.equal(server.running, false, host);
        const [failure] = recorder.of('server-error');
        assert.equal(failure.error.code, 'SOCKET_CLOSED');
        assert.match(failure.error.message, /closed from outside/);
        assert.match(failure.error.hint, /Start it again/);
        await server.stop();
        assert.equal(recorder.of('server-stopped').length, 1);
        // The other socket of :: is closed too, and the waiting reply is cancelled.
        assert.equal(socketsOn(server.local.port).length, 0, host);
        assert.deepEqual([server.counters.cancelled, server.counters.pending], [1, 0]);
        assertInvariant(server.counters);
      }
    });

    it('cancels replies still waiting for their delay, and counts them', async () => {
      const { server, recorder } = await start({ simulation: simulation({ delayMs: 5000 }) });
      const sender = await client();
      for (let i = 0; i < 3; i++) await sender.send(`late ${i}`, server.local);
      await recorder.waitFor((event) => event.kind === 'received' && event.seq === 3, 'received #3');
      assert.equal(server.counters.pending, 3);
      const stoppedAt = performance.now();
      await server.stop();
      assert.ok(performance.now() - stoppedAt < 1000, 'stop waited for the delayed replies');
      const counters = server.counters;
      assert.deepEqual([counters.cancelled, counters.pending, counters.replies], [3, 0, 0]);
      assertInvariant(counters);
      assert.equal(recorder.events.at(-1)?.kind, 'server-stopped');
      await sender.nothingFor(100);
    });
  });
});
