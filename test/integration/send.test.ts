import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import type { SendSelectionResult } from '../../src/vscode/sendCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { closeEditors, editorWith, getInternals, logMark, logSince, waitFor, withSettings } from './helpers';

async function startServer(args: Record<string, unknown> = {}): Promise<ServerInfo> {
  const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0, ...args });
  assert.ok(server, 'the echo server did not start');
  return server;
}

function send(target: string, extra: Record<string, unknown> = {}): Thenable<SendSelectionResult | undefined> {
  return vscode.commands.executeCommand<SendSelectionResult | undefined>('udpWorkbench.sendSelection', { target, ...extra });
}

describe('Send Selection', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  it('sends the selected text to a real echo server and reports the reply and round trip', async () => {
    const internals = await getInternals();
    const server = await startServer({ replyMode: 'template', template: 'Data received: ${text}' });
    await editorWith('first line\nhello from the editor\nthird', [[1, 0, 1, 10]]);
    const mark = logMark(internals);
    const result = await send(`127.0.0.1:${server.port}`);
    assert.ok(result);
    assert.equal(result.datagrams.length, 1);
    const [datagram] = result.datagrams;
    assert.equal(datagram.text, 'hello from');
    assert.equal(datagram.outcome, 'reply');
    assert.equal(datagram.reply, 'Data received: hello from');
    assert.equal(datagram.attempts, 1);
    assert.ok(datagram.rttMs !== undefined && datagram.rttMs > 0 && datagram.rttMs < 1000, `rtt ${datagram.rttMs}`);
    const lines = logSince(internals, mark);
    assert.ok(
      lines.some((l) => l.startsWith(`sent to 127.0.0.1:${server.port} from 127.0.0.1:`) && l.endsWith('10 bytes: "hello from"')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith(`reply from 127.0.0.1:${server.port} in `) && l.endsWith('25 bytes: "Data received: hello from"')),
      lines.join('\n'),
    );
    assert.match(internals.statusBar().tooltip, /Round trip over \d+: p50 /);
  });

  it('sends the current line when nothing is selected, and each selection when there are several', async () => {
    const server = await startServer();
    await editorWith('alpha\nbeta\ngamma', [[2, 1, 2, 1]]);
    const single = await send(`127.0.0.1:${server.port}`);
    assert.deepEqual(
      single?.datagrams.map((d) => d.reply),
      ['gamma'],
    );

    await editorWith('alpha\nbeta\ngamma', [
      [0, 0, 0, 5],
      [1, 1, 1, 3],
      [2, 0, 2, 0],
    ]);
    const several = await send(`127.0.0.1:${server.port}`);
    assert.deepEqual(
      several?.datagrams.map((d) => d.reply),
      ['alpha', 'et', 'gamma'],
    );
  });

  it('sends to the target in the settings, over IPv6 too', async () => {
    const server = await startServer({ host: '::1' });
    await editorWith('to the default target', [[0, 0, 0, 0]]);
    const result = await withSettings({ 'send.target': `[::1]:${server.port}` }, () =>
      vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.sendSelection'),
    );
    assert.equal(result?.target, `[::1]:${server.port}`);
    assert.equal(result?.datagrams[0].reply, 'to the default target');
  });

  it('encodes hex, base64 and escapes as asked', async () => {
    const server = await startServer();
    const target = `127.0.0.1:${server.port}`;
    await editorWith('0x48, 0x69 : 21', [[0, 0, 0, 0]]);
    assert.equal((await send(target, { encoding: 'hex' }))?.datagrams[0].reply, 'Hi!');
    await editorWith('aGVsbG8=', [[0, 0, 0, 0]]);
    assert.equal((await send(target, { encoding: 'base64' }))?.datagrams[0].reply, 'hello');
    await editorWith('a\\tb\\x41', [[0, 0, 0, 0]]);
    assert.equal((await send(target, { encoding: 'escaped' }))?.datagrams[0].reply, 'a\tbA');
  });

  it('logs binary replies as a hex dump', async () => {
    const internals = await getInternals();
    const server = await startServer();
    await editorWith('de ad be ef 00 01', [[0, 0, 0, 0]]);
    const mark = logMark(internals);
    await send(`127.0.0.1:${server.port}`, { encoding: 'hex' });
    const lines = logSince(internals, mark);
    assert.ok(
      lines.some((l) => /^reply from .*, 6 bytes:\n {4}0000 {2}de ad be ef 00 01/.test(l)),
      lines.join('\n'),
    );
  });

  it('waits, retries with backoff, then logs a timeout without an error dialog', async () => {
    const internals = await getInternals();
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    let heard = 0;
    silent.on('message', () => heard++);
    try {
      await editorWith('anyone there?', [[0, 0, 0, 0]]);
      const mark = logMark(internals);
      const started = Date.now();
      const result = await withSettings({ 'send.timeoutMs': 100, 'send.retries': 2, 'send.backoff': 2 }, () =>
        send(`127.0.0.1:${silent.address().port}`),
      );
      const elapsed = Date.now() - started;
      assert.equal(result?.datagrams[0].outcome, 'timeout');
      assert.equal(result?.datagrams[0].attempts, 3);
      assert.equal(heard, 3);
      assert.ok(elapsed >= 100 + 200 + 400 - 20, `waited only ${elapsed} ms`);
      const lines = logSince(internals, mark);
      assert.deepEqual(
        lines.filter((l) => l.startsWith('no reply')).map((l) => l.replace(/^no reply from 127\.0\.0\.1:\d+ /, '')),
        ['within 100 ms, sending again', 'within 200 ms (try 2), sending again', 'within 400 ms (try 3), giving up'],
      );
    } finally {
      silent.close();
    }
  });

  it('cancels a send waiting for its retries, without an error, and says so', async () => {
    const internals = await getInternals();
    const silent = await startServer({ replyMode: 'none' });
    await editorWith('anyone there?', [[0, 0, 0, 0]]);
    const cancellation = new vscode.CancellationTokenSource();
    const mark = logMark(internals);
    try {
      const started = Date.now();
      const sending = withSettings({ 'send.timeoutMs': 5000, 'send.retries': 3 }, () =>
        send(`127.0.0.1:${silent.port}`, { cancellation: cancellation.token }),
      );
      await waitFor('the datagram at the server', () => (internals.workbench.server(silent.id)?.counters.received ?? 0) >= 1);
      cancellation.cancel();
      const result = await sending;
      assert.ok(Date.now() - started < 5000, 'cancelled before its first timeout');
      assert.deepEqual(result, { target: `127.0.0.1:${silent.port}`, datagrams: [], cancelled: true });
      const lines = logSince(internals, mark);
      assert.ok(lines.includes(`Sending to 127.0.0.1:${silent.port} was cancelled after 0 datagrams.`), lines.join('\n'));
      assert.ok(!lines.some((line) => /error|timed out/i.test(line)), lines.join('\n'));
    } finally {
      cancellation.dispose();
    }
  });

  it('retries and counts the drops when the server simulates loss', async () => {
    const internals = await getInternals();
    // With seed 3, a 50 % inbound loss drops some of the first tries; the retries get through.
    const server = await startServer({ simulation: { dropInbound: 0.5, seed: 3 } });
    await editorWith('one\ntwo\nthree\nfour\nfive\nsix', [
      [0, 0, 0, 0],
      [1, 0, 1, 0],
      [2, 0, 2, 0],
      [3, 0, 3, 0],
      [4, 0, 4, 0],
      [5, 0, 5, 0],
    ]);
    const mark = logMark(internals);
    const result = await withSettings({ 'send.timeoutMs': 150, 'send.retries': 5, 'send.backoff': 1 }, () =>
      send(`127.0.0.1:${server.port}`),
    );
    assert.ok(result);
    const counters = internals.workbench.server(server.id)?.counters;
    assert.ok(counters);
    const attempts = result.datagrams.reduce((sum, d) => sum + d.attempts, 0);
    assert.equal(counters.received, attempts);
    assert.ok(counters.dropped > 0, 'seed 3 should drop at least one datagram');
    assert.equal(counters.dropped, attempts - result.datagrams.filter((d) => d.outcome === 'reply').length);
    const lines = await waitFor('every drop in the log', () => {
      const drops = logSince(internals, mark).filter((l) => l.includes('simulated loss on the way in'));
      return drops.length === counters.dropped && drops;
    });
    assert.equal(lines.length, counters.dropped);
  });

  it('says what is wrong with bad input, sends nothing and leaves the text alone', async () => {
    const internals = await getInternals();
    const server = await startServer();
    const target = `127.0.0.1:${server.port}`;
    const editor = await editorWith('de ad zz\n\nkeep me', [[0, 0, 0, 0]]);
    let mark = logMark(internals);
    assert.equal(await send(target, { encoding: 'hex' }), undefined);
    assert.ok(
      logSince(internals, mark).some((l) => /Malformed hex: "z" at column 7/.test(l)),
      logSince(internals, mark).join('\n'),
    );

    editor.selections = [new vscode.Selection(1, 0, 1, 0)];
    mark = logMark(internals);
    assert.equal(await send(target), undefined);
    assert.ok(
      logSince(internals, mark).some((l) => /Line 2 is empty/.test(l)),
      logSince(internals, mark).join('\n'),
    );

    mark = logMark(internals);
    assert.equal(await send('127.0.0.1:99999'), undefined);
    assert.ok(
      logSince(internals, mark).some((l) => /99999/.test(l) && /1.65535|65535/.test(l)),
      logSince(internals, mark).join('\n'),
    );

    mark = logMark(internals);
    editor.selections = [new vscode.Selection(2, 0, 2, 0)];
    assert.equal(await send('no-such-host.invalid:9'), undefined);
    assert.ok(
      logSince(internals, mark).some((l) => /no-such-host\.invalid/.test(l)),
      logSince(internals, mark).join('\n'),
    );
    assert.equal(internals.workbench.server(server.id)?.counters.received, 0);
    assert.equal(editor.document.getText(), 'de ad zz\n\nkeep me');
  });

  it('says when nothing listens on the target', async () => {
    const internals = await getInternals();
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise<void>((resolve) => closed.close(resolve));
    await editorWith('hello?', [[0, 0, 0, 0]]);
    const mark = logMark(internals);
    const result = await withSettings({ 'send.timeoutMs': 300, 'send.retries': 0 }, () => send(`127.0.0.1:${port}`));
    assert.equal(result, undefined);
    assert.ok(
      logSince(internals, mark).some((l) => l.includes(`127.0.0.1:${port}`) && /Nothing is listening/i.test(l)),
      logSince(internals, mark).join('\n'),
    );
  });

  it('writes one line for one failed send', async () => {
    const internals = await getInternals();
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
    const port = closed.address().port;
    await new Promise<void>((resolve) => closed.close(resolve));
    await editorWith('anyone?', [[0, 0, 0, 0]]);
    const mark = logMark(internals);
    assert.equal(await withSettings({ 'send.timeoutMs': 300, 'send.retries': 0 }, () => send(`127.0.0.1:${port}`)), undefined);
    // Past a few flushes of the batched log, where a second copy would arrive.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const lines = logSince(internals, mark).filter((line) => /Nothing is listening/i.test(line));
    assert.equal(lines.length, 1, logSince(internals, mark).join('\n'));
    assert.ok(lines[0].startsWith(`sending to 127.0.0.1:${port} failed: `), lines[0]);
  });
});
