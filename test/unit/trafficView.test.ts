import * as assert from 'node:assert/strict';
import { CaptureBuffer, type RecordedDatagram } from '../../src/core/capture/captureBuffer';
import { CaptureRecorder } from '../../src/core/capture/captureRecorder';
import type { Peer, WorkbenchEvent } from '../../src/core/events';
import { parseTrafficFilter } from '../../src/core/traffic/trafficFilter';
import { MAX_WINDOW_ROWS, TrafficList, trafficRow } from '../../src/core/traffic/trafficList';
import { CHART_SECONDS, TrafficRates } from '../../src/core/traffic/trafficRates';
import { client, dropped, received, replied, sent, server, started } from './serverEvents';

const remote: Peer = { address: '::1', port: 9000, family: 'IPv6' };

function datagram(fields: Partial<RecordedDatagram> & { text?: string } = {}): RecordedDatagram {
  const { text = 'hello', ...rest } = fields;
  return {
    atMicros: 1_000_000,
    source: client,
    destination: server,
    payload: Buffer.from(text),
    direction: 'in',
    fate: 'received',
    exchange: 's#1',
    ...rest,
  };
}

/** A recorder feeding a buffer, as the extension wires them, with a clock that steps 1 µs a datagram. */
function recorded(events: WorkbenchEvent[]): RecordedDatagram[] {
  const buffer = new CaptureBuffer(100);
  let clock = 0;
  const recorder = new CaptureRecorder(buffer, undefined, () => clock++);
  for (const event of [started, ...events]) {
    recorder.add(event);
  }
  recorder.flush();
  return buffer.datagrams();
}

describe('Traffic view: fates and exchanges of recorded datagrams', () => {
  it('marks a request replied, its replies as reply, duplicated or delayed, and both with one exchange', () => {
    const [request, reply, duplicate, delayed] = recorded([
      received(1),
      replied(1),
      replied(1, { duplicate: true }),
      replied(1, { delayMs: 40 }),
    ]);
    assert.deepEqual(
      [request, reply, duplicate, delayed].map((d) => [d.direction, d.fate, d.exchange]),
      [
        ['in', 'replied', 's#1'],
        ['out', 'reply', 's#1'],
        ['out', 'duplicated', 's#1'],
        ['out', 'delayed', 's#1'],
      ],
    );
  });

  it('marks a datagram dropped on the way in or out, or rate-limited, with its reason as the note', () => {
    const rows = recorded([
      received(1),
      dropped(1, 'simulated-loss-inbound'),
      received(2),
      dropped(2, 'rate-limited'),
      received(3),
      dropped(3, 'simulated-loss-outbound'),
    ]);
    assert.deepEqual(
      rows.map((d) => d.fate),
      ['dropped', 'rate-limited', 'dropped'],
    );
    assert.match(trafficRow(0, rows[0]).note, /dropped by simulation \(loss on the way in\)/);
  });

  it('marks a send elsewhere timed out, then replied on the attempt that got an answer', () => {
    const local: Peer = { address: '127.0.0.1', port: 40000, family: 'IPv4' };
    const rows = recorded([
      sent(1, remote, local, 'ping'),
      { kind: 'timeout', at: 0, requestId: 7, target: remote, attempt: 1, timeoutMs: 100, willRetry: true },
      sent(2, remote, local, 'ping'),
      { kind: 'reply', at: 0, requestId: 7, target: remote, payload: Buffer.from('pong'), attempt: 2, rttMs: 3, from: remote },
    ]);
    assert.deepEqual(
      rows.map((d) => `${d.direction} ${d.fate} ${d.exchange}`),
      ['out timed-out request 7', 'out replied request 7', 'in reply request 7'],
    );
    assert.deepEqual([trafficRow(2, rows[2]).local, trafficRow(2, rows[2]).peer], ['127.0.0.1:40000', '[::1]:9000']);
  });

  it('records nothing for an event kind it does not know, and goes on recording the known ones', () => {
    const proxyEvent = {
      kind: 'proxy-forwarded',
      at: 0,
      proxyId: 'p',
      direction: 'upstream',
      peer: client,
      payload: Buffer.from('x'),
    } as unknown as WorkbenchEvent;
    assert.deepEqual(
      recorded([proxyEvent, received(1), proxyEvent]).map((d) => d.fate),
      ['received'],
    );
  });
});

describe('Traffic view: the row model', () => {
  it('shows addresses from the workbench side, the size, and an escaped preview that cannot break the line', () => {
    const row = trafficRow(4, datagram({ text: 'a\nb\u202e"c' }));
    assert.equal(row.n, 4);
    assert.equal(row.local, '127.0.0.1:12345');
    assert.equal(row.peer, '127.0.0.1:50000');
    assert.equal(row.size, 8);
    assert.equal(row.preview, '"a\\nb\\u202e\\"c"');
    assert.match(row.time, /^\d\d:\d\d:\d\d\.\d{3}$/);
  });
});

describe('Traffic view: the filter', () => {
  const request = datagram({ text: 'GET /status', direction: 'in', fate: 'replied' });
  const reply = datagram({ text: 'OK', source: server, destination: client, direction: 'out', fate: 'reply' });
  const binary = datagram({ payload: Buffer.from([0xde, 0xad, 0xbe, 0xef]), source: remote, destination: remote, fate: 'dropped' });
  const all = [request, reply, binary];
  const matching = (text: string): RecordedDatagram[] => all.filter(parseTrafficFilter(text).matches);

  it('matches everything when empty', () => assert.deepEqual(matching('  '), all));
  it('matches direction, fate and their key:value forms', () => {
    assert.deepEqual(matching('out'), [reply]);
    assert.deepEqual(matching('dropped'), [binary]);
    assert.deepEqual(matching('fate:replied dir:in'), [request]);
  });
  it('matches a port on either side and a peer by part of its address', () => {
    assert.deepEqual(matching('port:9000'), [binary]);
    assert.deepEqual(matching('port:50000'), [request, reply]);
    assert.deepEqual(matching('peer:[::1]'), [binary]);
  });
  it('matches bytes given as hex, and text (quoted, with spaces) in the payload', () => {
    assert.deepEqual(matching('0xADBE'), [binary]);
    assert.deepEqual(matching('hex:de:ad'), [binary]);
    assert.deepEqual(matching('"GET /st"'), [request]);
    assert.deepEqual(matching('OK out'), [reply]);
  });
  it('says which term it did not understand and how to write it, and ignores only that term', () => {
    const filter = parseTrafficFilter('port:70000 hex:abc in');
    assert.match(filter.error ?? '', /"port:70000": a port is a number from 0 to 65535\./);
    assert.match(filter.error ?? '', /"hex:abc": hex bytes are pairs/);
    assert.deepEqual(all.filter(filter.matches), [request, binary]);
  });
  it('names a key it does not know, the one meant, and how to search for the text instead', () => {
    const filter = parseTrafficFilter('prot:9000 in');
    assert.equal(
      filter.error,
      '"prot:9000": there is no key prot (did you mean port:?); the keys are port, peer, hex, fate, dir. For the text itself, put it in quotes.',
    );
    assert.deepEqual(all.filter(filter.matches), [request, binary], 'the unknown term is left out, the rest holds');
    assert.match(parseTrafficFilter('colour:red').error ?? '', /^"colour:red": there is no key colour; the keys are/);
    assert.equal(parseTrafficFilter('"prot:9000"').error, undefined, 'quoted, it is text');
    assert.equal(parseTrafficFilter('127.0.0.1:9000 [::1]:9000').error, undefined, 'addresses are no keys');
  });
});

describe('Traffic view: the filter, term by term', () => {
  const far: Peer = { address: 'fe80::ab', port: 4000, family: 'IPv6' };
  const request = datagram({ text: 'GET /status', direction: 'in', fate: 'replied' });
  const reply = datagram({ text: 'OK', source: server, destination: client, direction: 'out', fate: 'reply' });
  const hello = datagram({ text: 'hi', source: far, destination: server, direction: 'in' });
  const answer = datagram({ text: 'hi', source: server, destination: far, direction: 'out', fate: 'reply' });
  const all = [request, reply, hello, answer];
  const matching = (text: string): RecordedDatagram[] => all.filter(parseTrafficFilter(text).matches);
  const errorOf = (text: string): string | undefined => parseTrafficFilter(text).error;

  it('reads a word as text in the payload or part of either address, in any case', () => {
    assert.deepEqual(matching('OK'), [reply]);
    assert.deepEqual(matching('FE80::AB'), [hello, answer]);
    assert.deepEqual(matching('fe80::ab'), [hello, answer]);
    assert.equal(errorOf('OK in port:50000'), undefined);
  });

  it('reads a quoted term as payload text only, closed or not, and an empty one as nothing', () => {
    assert.deepEqual(matching('"reply"'), [], 'quoted: the text, not the fate');
    assert.deepEqual(matching('"GET /st'), [request]);
    assert.deepEqual(matching('""'), all);
  });

  it('takes key: and 0x only at the start of a term, and a whole term as hex', () => {
    // A word before the colon is a key: xport is none, so it is named (not searched for) and left out.
    assert.match(errorOf('xport:50000') ?? '', /^"xport:50000": there is no key xport \(did you mean port:\?\)/);
    assert.deepEqual(matching('xport:50000'), all);
    assert.deepEqual(matching('a0x4f4b'), []);
    assert.deepEqual(matching('0x4f4b'), [reply]);
    assert.deepEqual(matching('0x4f4bzz'), []);
  });

  it('takes a port from 0 to 65535 on either side, and says what a port is otherwise', () => {
    assert.deepEqual(matching('port:4000'), [hello, answer]);
    assert.deepEqual(matching('port:65535'), []);
    assert.equal(errorOf('port:65535'), undefined);
    for (const bad of ['port:x1', 'port:1x', 'port:65536']) {
      assert.equal(errorOf(bad), `"${bad}": a port is a number from 0 to 65535.`);
      assert.deepEqual(matching(bad), all, 'a term not understood is left out');
    }
  });

  it('matches peer: against the other side, whichever way the datagram went, in any case', () => {
    assert.deepEqual(matching('peer:50000'), [request, reply]);
    assert.deepEqual(matching('peer:FE80::AB'), [hello, answer]);
    assert.deepEqual(matching('peer:12345'), []);
  });

  it('reads dir: and fate: in any case, and says what they take', () => {
    assert.deepEqual(matching('dir:OUT'), [reply, answer]);
    assert.deepEqual(matching('dir:in'), [request, hello]);
    assert.deepEqual(matching('fate:REPLY'), [reply, answer]);
    assert.equal(errorOf('dir:up'), '"dir:up": a direction is in or out.');
    assert.match(errorOf('fate:lost') ?? '', /^"fate:lost": a fate is one of \w.*, \w.*\.$/);
  });

  it('says what hex bytes are for an empty, odd or non-hex value, and joins several errors with a space', () => {
    const hint = 'hex bytes are pairs of 0-9 and a-f, such as hex:de:ad:be:ef or 0xdeadbeef.';
    for (const bad of ['hex:', 'hex:abc', 'hex:zzab', 'hex:abzz']) assert.equal(errorOf(bad), `"${bad}": ${hint}`);
    assert.deepEqual(matching('hex:4f:4b'), [reply]);
    assert.equal(errorOf('hex: dir:up'), `"hex:": ${hint} "dir:up": a direction is in or out.`);
  });
});

describe('Traffic view: the list over the ring buffer', () => {
  it('finds a datagram by its number as the buffer lets older ones go, so a view can stay on it', () => {
    const buffer = new CaptureBuffer(10);
    const list = new TrafficList(buffer);
    for (let i = 0; i < 10; i++) buffer.add(datagram({ text: `d${i}` }));
    list.update();
    assert.equal(list.indexOf(6), 6);
    for (let i = 10; i < 13; i++) buffer.add(datagram({ text: `d${i}` }));
    list.update();
    // Three went: d6 is now the fourth held, and the window that starts at it still shows it first.
    assert.equal(list.indexOf(6), 3);
    assert.equal(list.window(list.indexOf(6), 2).rows[0].preview, '"d6"');
    assert.equal(list.indexOf(1), 0, 'gone: the oldest held');
    list.setFilter('d1');
    assert.equal(list.window(list.indexOf(6), 1).rows[0].preview, '"d10"', 'with a filter, the first matching after it');
  });

  it('keeps the matching numbers as the buffer lets old datagrams go, and windows them', () => {
    const buffer = new CaptureBuffer(5);
    const list = new TrafficList(buffer);
    list.setFilter('in');
    for (let i = 0; i < 8; i++) buffer.add(datagram({ text: `d${i}`, direction: i % 2 === 0 ? 'in' : 'out' }));
    list.update();
    // Held: d3..d7; of these in: d4, d6.
    assert.equal(list.matched, 2);
    assert.deepEqual(
      list.window(0, 10).rows.map((r) => [r.n, r.preview]),
      [
        [4, '"d4"'],
        [6, '"d6"'],
      ],
    );
    for (let i = 8; i < 12; i++) buffer.add(datagram({ text: `d${i}`, direction: 'in' }));
    list.update();
    assert.deepEqual(
      list.window(0, 10).rows.map((r) => r.n),
      [7, 8, 9, 10, 11].filter((n) => n !== 7),
    );
    assert.deepEqual(list.window(99, 2), { first: 2, rows: list.window(2, 2).rows }, 'a window past the end shows the last rows');
    assert.equal(list.window(0, 10_000).rows.length, 4);
    assert.ok(MAX_WINDOW_ROWS < 10_000);
  });

  it('starts over after the buffer is cleared, and finds an exchange among the rows held', () => {
    const buffer = new CaptureBuffer(10);
    const list = new TrafficList(buffer);
    buffer.add(datagram({ exchange: 'a' }));
    buffer.add(datagram({ exchange: 'b' }));
    buffer.add(datagram({ exchange: 'a', direction: 'out', fate: 'reply' }));
    list.update();
    assert.deepEqual(
      list.exchangeOf(2).map((r) => [r.n, r.fate]),
      [
        [0, 'received'],
        [2, 'reply'],
      ],
    );
    buffer.clear();
    buffer.add(datagram());
    list.forget();
    list.update();
    assert.deepEqual(
      list.window(0, 10).rows.map((r) => r.n),
      [0],
    );
    assert.deepEqual(list.exchangeOf(5), []);
  });
});

describe('Traffic view: the per-second charts', () => {
  it('counts datagrams in and out, simulated loss and timeouts apart, and round-trip p50 and p99, per second', () => {
    const rates = new TrafficRates();
    const at = 1_700_000_000_000;
    rates.addDatagram(datagram({ atMicros: at * 1000 + 1, direction: 'in' }));
    rates.addDatagram(datagram({ atMicros: at * 1000 + 2, direction: 'out' }));
    rates.addDatagram(datagram({ atMicros: (at + 1000) * 1000, direction: 'in' }));
    rates.addEvent({
      kind: 'dropped',
      at,
      serverId: 's',
      peer: client,
      size: 1,
      payload: Buffer.from('x'),
      seq: 1,
      reason: 'simulated-loss-inbound',
    });
    rates.addEvent({ kind: 'dropped', at, serverId: 's', peer: client, size: 1, payload: Buffer.from('x'), seq: 2, reason: 'send-failed' });
    rates.addEvent({ kind: 'timeout', at: at + 1000, requestId: 1, target: remote, attempt: 1, timeoutMs: 100, willRetry: false });
    for (let ms = 1; ms <= 100; ms++) {
      rates.addEvent({ kind: 'reply', at, requestId: ms, target: remote, payload: Buffer.from('x'), attempt: 1, rttMs: ms, from: remote });
    }
    const charts = rates.charts(at + 1500);
    assert.equal(charts.seconds.length, CHART_SECONDS);
    const last = CHART_SECONDS - 1;
    assert.deepEqual(charts.seconds.slice(-2), [at / 1000, at / 1000 + 1]);
    assert.deepEqual(
      [charts.in.slice(-2), charts.out.slice(-2)],
      [
        [1, 1],
        [1, 0],
      ],
    );
    assert.deepEqual(
      [charts.simulatedLoss.slice(-2), charts.timeouts.slice(-2)],
      [
        [1, 0],
        [0, 1],
      ],
    );
    assert.deepEqual([charts.rttP50[last - 1], charts.rttP99[last - 1], charts.rttP50[last]], [50, 99, null]);
    assert.deepEqual(charts.in.slice(0, -2), new Array<number>(CHART_SECONDS - 2).fill(0), 'quiet seconds are zeros');
    assert.deepEqual(rates.totals, { in: 2, out: 1 });
  });

  it('counts each drop reason that is simulated (or a rate limit) as simulated loss, one by one, and no other', () => {
    const lossOf = (event: WorkbenchEvent): number | undefined => {
      const rates = new TrafficRates();
      rates.addEvent(event);
      return rates.charts(0).simulatedLoss.at(-1);
    };
    const serverReasons = ['simulated-loss-inbound', 'simulated-loss-outbound', 'rate-limited', 'send-failed', 'forged-source'];
    assert.deepEqual(
      serverReasons.map((reason) => lossOf(dropped(1, reason))),
      [1, 1, 1, 0, 0],
    );
    const proxyDrop = (reason: string): WorkbenchEvent =>
      ({ ...dropped(1, reason), kind: 'proxy-dropped', proxyId: 'p', direction: 'to-server', session: 1 }) as WorkbenchEvent;
    assert.deepEqual(
      ['simulated-loss', 'queue-full', 'rate-limited', 'cancelled'].map((reason) => lossOf(proxyDrop(reason))),
      [1, 1, 1, 0],
    );
  });

  it("counts a proxy's simulated drops as simulated loss, and a burst's answered datagrams in the round trips", () => {
    const rates = new TrafficRates();
    const at = 1_700_000_000_000;
    const proxyDrop = (seq: number, reason: 'simulated-loss' | 'queue-full' | 'rate-limited' | 'cancelled'): WorkbenchEvent => ({
      kind: 'proxy-dropped',
      at,
      proxyId: 'proxy-1',
      direction: 'to-client',
      session: 1,
      peer: client,
      seq,
      source: remote,
      destination: client,
      payload: Buffer.from('x'),
      size: 1,
      reason,
    });
    for (const [seq, reason] of (['simulated-loss', 'queue-full', 'rate-limited', 'cancelled'] as const).entries()) {
      rates.addEvent(proxyDrop(seq + 1, reason));
    }
    const reply = (seq: number | undefined, duplicate: boolean, rttMs: number | undefined): WorkbenchEvent => ({
      kind: 'burst-reply',
      at,
      requestId: 9,
      target: remote,
      payload: Buffer.from('x'),
      from: remote,
      local: client,
      seq,
      duplicate,
      rttMs,
    });
    rates.addEvent(reply(0, false, 4));
    rates.addEvent(reply(0, true, undefined));
    rates.addEvent(reply(undefined, false, undefined));
    const charts = rates.charts(at);
    assert.deepEqual([charts.simulatedLoss.at(-1), charts.rttP50.at(-1), charts.rttP99.at(-1)], [3, 4, 4]);
  });

  it('forgets seconds older than the window, so a long run keeps a bounded map', () => {
    const rates = new TrafficRates();
    for (let s = 0; s < 10 * CHART_SECONDS; s++) rates.addDatagram(datagram({ atMicros: s * 1e6, direction: 'in' }));
    const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);
    const last = 10 * CHART_SECONDS;
    assert.equal(sum(rates.charts(last * 1000 - 1).in), CHART_SECONDS);
    // Each second it still holds shows in some window; a second it forgot shows in none. It keeps two windows' worth.
    const kept = Array.from({ length: last }, (_, s) => s).filter((s) => rates.charts(s * 1000).in.at(-1) === 1);
    assert.deepEqual(
      { held: kept.length, oldest: kept[0], newest: kept.at(-1) },
      { held: 2 * CHART_SECONDS, oldest: last - 2 * CHART_SECONDS, newest: last - 1 },
    );
    assert.equal(rates.totals.in, last);
    rates.clear();
    assert.deepEqual(rates.totals, { in: 0, out: 0 });
  });
});
