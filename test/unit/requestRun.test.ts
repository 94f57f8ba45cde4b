import * as assert from 'node:assert/strict';
import type { EchoServer } from '../../src/core/server/echoServer';
import { NO_SIMULATION } from '../../src/core/impairment/impairment';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import type { BurstResult } from '../../src/core/send/client';
import {
  describeBlockResult,
  describeRun,
  sendRequestBlock,
  summarizeRun,
  type BlockResult,
  type SendDefaults,
  wasSent,
} from '../../src/core/requests/requestRun';
import { Workbench } from '../../src/core/workbench/workbench';

describe('sendRequestBlock', () => {
  let workbench: Workbench;
  let echo: EchoServer;
  let defaults: SendDefaults;

  beforeEach(async () => {
    workbench = new Workbench();
    echo = await workbench.startServer({
      host: '127.0.0.1',
      port: 0,
      replyMode: 'template',
      template: 'Data received: ${text}',
      rateLimit: false,
    });
    defaults = { target: `127.0.0.1:${echo.local.port}`, timeoutMs: 1000, retries: 0, backoff: 1 };
  });
  afterEach(() => workbench.dispose());

  /** Sends the one block of `text` (or the block named `name`). */
  async function run(text: string, seq = 1, more: Partial<SendDefaults> = {}, signal?: AbortSignal): Promise<BlockResult> {
    const file = parseRequestFile(text);
    return sendRequestBlock(workbench, file, file.blocks[0], { ...defaults, ...more }, seq, { signal });
  }

  it('sends the payload with its variables filled in, and passes on the expected reply', async () => {
    const result = await run('@who = editor\n### hello\n@expect contains "Data received"\nhi {{who}} #{{$seq}}', 42);
    assert.equal(result.outcome, 'passed');
    assert.equal(result.reply, 'Data received: hi editor #42');
    assert.equal(result.replyBytes, 28);
    assert.equal(result.name, 'hello');
    assert.equal(result.line, 1);
    assert.equal(result.target, `127.0.0.1:${echo.local.port}`);
    assert.match(result.summary, /^✓ 28 B in \d+\.\d+ ms$/);
    assert.equal(result.detail, 'reply contains "Data received"');
  });

  it('counts a block as sent when a datagram went out, nothing listening included, and not when it was refused first', async () => {
    assert.equal(wasSent(await run('ping')), true, 'answered');
    assert.equal(wasSent(await run('@target 127.0.0.1:9\n@retries 0\nping')), true, "refused by the system's 'port unreachable'");
    const malformed = await run('@encoding hex\nde ad zz');
    assert.deepEqual([malformed.outcome, wasSent(malformed)], ['not-sent', false], 'malformed hex: nothing went out');
    const tooLarge = await run(`@encoding hex\n${'00'.repeat(70_000)}`);
    assert.deepEqual([tooLarge.outcome, wasSent(tooLarge)], ['not-sent', false], 'too large: nothing went out');
  });

  it("uses the block's own target, encoding and expectation", async () => {
    const other = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror', rateLimit: false });
    const result = await run(`@target 127.0.0.1:${other.local.port}\n@encoding hex\n@expect hex "48 69"\n48 69`);
    assert.equal(result.outcome, 'passed', result.detail);
    assert.equal(result.reply, 'Hi');
  });

  it('fails an expectation the reply does not meet, saying what came', async () => {
    const result = await run('@expect equals "pong"\nping');
    assert.equal(result.outcome, 'failed');
    assert.equal(result.summary, '✗ expectation failed');
    assert.equal(result.detail, 'expected a reply that equals "pong", got 19 B: "Data received: ping"');
  });

  it('times out after its retries when no reply comes', async () => {
    const silent = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'none', rateLimit: false });
    const result = await run(`@target 127.0.0.1:${silent.local.port}\n@timeout 30\n@retries 2\nping`, 1, { backoff: 1 });
    assert.equal(result.outcome, 'timeout');
    assert.equal(result.summary, '✗ timed out after 3 tries');
    assert.equal(result.attempts, 3);
    assert.equal(result.detail, 'no reply');
  });

  it('passes @expect none on silence after one try, and fails it on a reply', async () => {
    const silent = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'none', rateLimit: false });
    const quiet = await run(`@target 127.0.0.1:${silent.local.port}\n@timeout 30\n@expect none\nping`, 1, { retries: 5 });
    assert.equal(quiet.outcome, 'passed');
    assert.equal(quiet.attempts, 1);
    assert.equal(quiet.summary, '✓ no reply, as expected');
    const answered = await run('@expect none\nping');
    assert.equal(answered.outcome, 'failed');
  });

  it('does not send a block with errors, and says where the first one is', async () => {
    let sent = 0;
    workbench.events.subscribe((event) => void (event.kind === 'sent' && sent++));
    const result = await run('### b\n@timeout soon\n@bogus 1\nping');
    assert.equal(result.outcome, 'not-sent');
    assert.equal(result.summary, '✗ 2 problems to fix');
    assert.match(result.detail, /^not sent: 2 problems in the block, first on line 2: Bad @timeout "soon"/);
    assert.equal(result.problems?.length, 2);
    assert.equal(sent, 0);
  });

  it('reports what the network or the encoder said when it cannot send', async () => {
    const badDefault = await run('ping', 1, { target: 'nowhere' });
    assert.equal(badDefault.outcome, 'not-sent');
    assert.match(badDefault.detail, /^not sent: "nowhere" is not a valid address: the port is missing/);
    const badHex = await run('@v = 1\n@encoding hex\nde {{v}}');
    assert.equal(badHex.outcome, 'not-sent');
    assert.match(badHex.summary, /^✗ Malformed hex/);
  });

  it('sends a burst and reports its loss and round trips', async () => {
    const lossy = await workbench.startServer({
      host: '127.0.0.1',
      port: 0,
      rateLimit: false,
      simulation: { ...NO_SIMULATION, dropInbound: 0.3, seed: 7 },
    });
    const result = await run(`@target 127.0.0.1:${lossy.local.port}\n@repeat 200\n@rate 2000/s\n@timeout 200\nping`);
    assert.equal(result.outcome, 'measured');
    assert.ok(result.burst);
    assert.equal(result.burst.sent, 200);
    assert.ok(result.burst.lossPercent > 15 && result.burst.lossPercent < 45, `loss ${result.burst.lossPercent}%`);
    // A loaded machine may not keep the 2,000/s, and then says so.
    assert.match(result.summary, /^⚠ 200 sent · \d+\.\d% lost · (?:rate [\d,]+\/s of 2,000\/s asked · )?p50 \S+ ms · p99 \S+ ms$/);
    assert.match(result.detail, /^burst: 200 sent, \d+ answered, \d+ lost/);
    const clean = await run('@repeat 20\nping');
    assert.equal(clean.outcome, 'passed');
    assert.match(clean.summary, /^✓ 20 sent · 0\.0% lost/);
  });

  it("says in a burst's result that its datagrams carry a tag, and with @tag off counts replies by order", async () => {
    const mirror = await mirrorServer();
    const tagged = await run(`@target ${mirror.target}\n@repeat 3\n@timeout 200\nping`);
    assert.match(
      tagged.detail,
      /; each datagram carried an 8-byte tag after the payload to match its reply \(@tag off sends the payload alone\)$/,
    );
    // The template server answers in its own words: no tag comes back, but by order every reply counts.
    const byOrder = await run('@repeat 5\n@tag off\n@timeout 200\nping');
    assert.equal(byOrder.outcome, 'passed', byOrder.detail);
    assert.deepEqual(byOrder.burst && [byOrder.burst.tagged, byOrder.burst.received], [false, 5]);
    assert.match(byOrder.detail, /; sent without the tag \(@tag off\): replies were counted by order$/);
  });

  it('reports a cancelled burst with how many went out and came back, and a cancelled single send', async () => {
    const burst = await run('@repeat 1000\n@rate 100/s\nping', 1, {}, AbortSignal.timeout(300));
    assert.equal(burst.outcome, 'cancelled');
    assert.ok(burst.burst?.cancelled);
    assert.match(burst.summary, /^⊘ cancelled after \d+ of 1,000 sent · \d+\.\d% lost · /);
    assert.match(burst.detail, /^burst: cancelled after \d+ of 1,000 sent, \d+ answered, \d+ lost/);

    const silent = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'none', rateLimit: false });
    const single = await run(`@target 127.0.0.1:${silent.local.port}\n@timeout 5s\n@retries 3\nping`, 1, {}, AbortSignal.timeout(200));
    assert.deepEqual([single.outcome, single.summary], ['cancelled', '⊘ cancelled']);
  });

  it('says when a burst could not keep its rate, and the rate it achieved', async () => {
    const file = parseRequestFile('@target 127.0.0.1:9\n@repeat 1000\n@rate 1000000/s\nx');
    const slow: BurstResult = {
      count: 1000,
      sent: 1000,
      received: 1000,
      lost: 0,
      lossPercent: 0,
      duplicates: 0,
      reordered: 0,
      unmatched: 0,
      stats: { count: 0, min: undefined, mean: undefined, p50: undefined, p99: undefined, max: undefined },
      durationMs: 20,
      askedRate: 1_000_000,
      achievedRate: 48_210.4,
      keptRate: false,
      tagged: true,
      cancelled: false,
    };
    const sender = { send: () => Promise.reject(new Error('not a single send')), burst: () => Promise.resolve(slow) };
    const result = await sendRequestBlock(sender, file, file.blocks[0], defaults, 1);
    assert.match(result.summary, /^✓ 1,000 sent · 0\.0% lost · rate 48,210\/s of 1,000,000\/s asked · /);
    assert.match(
      result.detail,
      /; rate 48,210\/s of 1,000,000\/s asked: this machine, or the replies the window waited for, could not keep up;/,
    );
  });

  /** A mirror server, and the payloads it receives, without the burst's 8-byte tag. */
  async function mirrorServer(): Promise<{ target: string; received: Buffer[] }> {
    const mirror = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror', rateLimit: false });
    const received: Buffer[] = [];
    workbench.events.subscribe((event) => {
      if (event.kind === 'received' && event.serverId === mirror.id) received.push(event.payload.subarray(0, -8));
    });
    return { target: `127.0.0.1:${mirror.local.port}`, received };
  }

  it('fills in {{$seq}} per datagram of a burst, counting on from the seq it is given', async () => {
    const mirror = await mirrorServer();
    const result = await run(`@target ${mirror.target}\n@repeat 5\n@timeout 200\nping {{$seq}}`, 1);
    assert.equal(result.outcome, 'passed', result.detail);
    assert.deepEqual(result.burst && [result.burst.received, result.burst.unmatched], [5, 0]);
    assert.deepEqual(mirror.received.map(String), ['ping 1', 'ping 2', 'ping 3', 'ping 4', 'ping 5']);

    mirror.received.length = 0;
    await run(`@target ${mirror.target}\n@repeat 3\n@timeout 200\nping {{$seq}}`, 41);
    assert.deepEqual(mirror.received.map(String), ['ping 41', 'ping 42', 'ping 43']);
  });

  it('fills in {{$uuid}}, {{$timestamp}} and {{$randomInt}} per datagram of a burst, and a burst without built-ins sends the same bytes', async () => {
    const mirror = await mirrorServer();
    const before = Date.now();
    const result = await run(
      `@target ${mirror.target}\n@repeat 5\n@rate 100/s\n@timeout 200\n{{$uuid}} {{$timestamp}} {{$randomInt 0 1000000000000}}`,
    );
    assert.equal(result.outcome, 'passed', result.detail);
    const fields = mirror.received.map((payload) => String(payload).split(' '));
    assert.equal(fields.length, 5);
    assert.equal(new Set(fields.map(([uuid]) => uuid)).size, 5, 'a uuid each');
    assert.equal(new Set(fields.map(([, , random]) => random)).size, 5, 'a random number each');
    const times = fields.map(([, timestamp]) => Number(timestamp));
    assert.ok(
      times.every((time, i) => time >= before && time <= Date.now() && (i === 0 || time >= times[i - 1])),
      times.join(' '),
    );
    // At 100/s the five datagrams go out over 40 ms, each stamped as it goes.
    assert.ok(times[4] - times[0] >= 30, times.join(' '));

    mirror.received.length = 0;
    await run(`@v = same\n### constant\n@target ${mirror.target}\n@repeat 3\n@timeout 200\nping {{v}}`);
    assert.deepEqual(mirror.received.map(String), ['ping same', 'ping same', 'ping same']);
  });

  it('stops a burst at the datagram its encoding cannot read, saying which and why', async () => {
    const mirror = await mirrorServer();
    // {{$seq}} 98 and 99 are two hex digits; 100 is three.
    const result = await run(`@target ${mirror.target}\n@encoding hex\n@repeat 5\n@timeout 200\nde {{$seq}}`, 98);
    assert.equal(result.outcome, 'not-sent');
    assert.equal(result.target, mirror.target);
    assert.equal(
      result.summary,
      '✗ Burst stopped at datagram 3 of 5, 2 sent: filled in, it reads "de 100". Malformed hex: "100" at column 4 has an odd number of digits; each byte needs two.',
    );
    assert.match(result.detail, /^not sent: Burst stopped at datagram 3 of 5, 2 sent: .* each byte needs two\. Use pairs of 0-9 a-f/);
    assert.equal(result.burst, undefined);
    for (let waited = 0; mirror.received.length < 2 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(
      mirror.received.map((payload) => payload.toString('hex')),
      ['de98', 'de99'],
    );
  });
});

describe('summarizeRun', () => {
  const result = (outcome: BlockResult['outcome'], rttMs?: number): BlockResult => ({
    name: 'b',
    line: 0,
    outcome,
    summary: '',
    detail: '',
    rttMs,
  });

  it('counts each outcome and the round trips of single sends', () => {
    const summary = summarizeRun([
      result('passed', 1),
      result('passed', 3),
      result('failed', 2),
      result('timeout'),
      result('not-sent'),
      result('measured'),
    ]);
    assert.deepEqual(
      { ...summary, roundTrip: undefined },
      { total: 6, passed: 2, failed: 1, timedOut: 1, notSent: 1, measured: 1, cancelled: 0, roundTrip: undefined },
    );
    assert.equal(summary.roundTrip.count, 3);
    assert.equal(
      describeRun(summary),
      '6 blocks: 2 passed, 1 failed, 1 timed out, 1 not sent, 1 burst with loss; round trip over 3 replies: p50 2.00 ms, p99 3.00 ms, max 3.00 ms',
    );
  });

  it('leaves out what did not happen', () => {
    assert.equal(describeRun(summarizeRun([result('timeout')])), '1 block: 0 passed, 0 failed, 1 timed out');
  });
});

describe('describeBlockResult', () => {
  const SNEAKY = /[\u061c\u200e\u202e\u2066]/u;
  let workbench: Workbench;
  let defaults: SendDefaults;

  beforeEach(async () => {
    workbench = new Workbench();
    const mirror = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror', rateLimit: false });
    defaults = { target: `127.0.0.1:${mirror.local.port}`, timeoutMs: 1000, retries: 0, backoff: 1 };
  });
  afterEach(() => workbench.dispose());

  async function logLine(text: string): Promise<string> {
    const file = parseRequestFile(text);
    return describeBlockResult(await sendRequestBlock(workbench, file, file.blocks[0], defaults, 1));
  }

  it('escapes the block name, the @expect text and the reply, as they come from the file and the network', async () => {
    const line = await logLine('### pay\u202eexe.txt\n@expect contains "ok\u2066"\nno\u061c "quote" \\\\');
    assert.doesNotMatch(line, SNEAKY);
    assert.equal(
      line,
      String.raw`[pay\u202eexe.txt] ✗ expectation failed: expected a reply that contains "ok\u2066", got 14 B: "no\u061c \"quote\" \\"`,
    );
  });

  it('escapes a regular expression without doubling its own backslashes', async () => {
    const line = await logLine('### regex\n@expect matches /^\\d+\u200e$/\nabc');
    assert.equal(line, String.raw`[regex] ✗ expectation failed: expected a reply that matches /^\d+\u200e$/, got 3 B: "abc"`);
  });

  it('escapes the block name in the problem that kept it from being sent', async () => {
    const line = await logLine('### evil\u202ename\n@expect none\n');
    assert.doesNotMatch(line, SNEAKY);
    assert.match(line, /^\[evil\\u202ename\] ✗ not sent: a problem in the block, first on line 1: evil\\u202ename has no payload/);
  });
});
