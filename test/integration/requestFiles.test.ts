import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BlockResult, RunSummary } from '../../src/core/requests/requestRun';
import type { RunAllResult } from '../../src/vscode/requestFiles/runner';
import type { ServerInfo, StartServerArgs } from '../../src/vscode/serverCommands';
import { closeEditors, EXTENSION_ID, getInternals, logMark, logSince, waitFor, withSettings } from './helpers';

function fixture(name: string): vscode.Uri {
  const [folder] = vscode.workspace.workspaceFolders ?? [];
  assert.ok(folder, 'the integration tests run with the fixtures folder open');
  return vscode.Uri.joinPath(folder.uri, name);
}

async function open(name: string): Promise<vscode.TextDocument> {
  const document = await vscode.workspace.openTextDocument(fixture(name));
  await vscode.window.showTextDocument(document);
  assert.equal(document.languageId, 'udp', `${name} opens in the udp language`);
  return document;
}

async function startServer(args: StartServerArgs = {}): Promise<ServerInfo> {
  const server = await vscode.commands.executeCommand<ServerInfo | undefined>('udpWorkbench.startServer', {
    host: '127.0.0.1',
    port: 0,
    ...args,
  });
  assert.ok(server, 'the echo server did not start');
  return server;
}

const templateServer = (delayMs = 0): Promise<ServerInfo> =>
  startServer({ replyMode: 'template', template: 'Data received: ${text}', simulation: { delayMs } });

/** The lenses VS Code itself gets for the document: titles and the line each stands on. */
async function lenses(uri: vscode.Uri): Promise<Array<{ line: number; title: string; args: unknown }>> {
  const found = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? [];
  return found.map((lens) => ({ line: lens.range.start.line, title: lens.command?.title ?? '', args: lens.command?.arguments?.[0] }));
}

function sendBlock(uri: vscode.Uri, line: number): Thenable<BlockResult | undefined> {
  return vscode.commands.executeCommand<BlockResult | undefined>('udpWorkbench.sendBlock', { uri: uri.toString(), line });
}

const at = (target: ServerInfo): string => `127.0.0.1:${target.port}`;

describe('.udp request files', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  it('marks each mistake in a fixture where it is, and keeps the marks in step with edits', async () => {
    const document = await open('problems.udp');
    const marks = await waitFor('diagnostics for problems.udp', () => {
      const found = vscode.languages.getDiagnostics(document.uri);
      return found.length >= 4 && found;
    });
    const shown = marks.map(
      (d) =>
        `${d.range.start.line}:${d.range.start.character}-${d.range.end.character} ${d.severity === vscode.DiagnosticSeverity.Error ? 'error' : 'warning'}`,
    );
    assert.deepEqual(shown, ['2:0-8 error', '6:9-12 error', '7:16-27 error', '8:5-13 error']);
    assert.match(marks[0].message, /Unknown header @tiemout: use @target, @encoding, @timeout/);
    assert.match(marks[1].message, /Bad @timeout "abc"/);
    assert.match(marks[2].message, /Bad regular expression/);
    assert.match(marks[3].message, /Unknown variable \{\{nope\}\}/);
    assert.ok(marks.every((d) => d.source === 'UDP Workbench'));

    const editor = vscode.window.activeTextEditor;
    assert.ok(editor);
    await editor.edit((edit) => edit.replace(new vscode.Range(2, 1, 2, 8), 'timeout'));
    await waitFor('the fixed header to lose its mark', () => vscode.languages.getDiagnostics(document.uri).length === 3);
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await waitFor('the mark to come back after the revert', () => vscode.languages.getDiagnostics(document.uri).length === 4);
  });

  it('does not send a block with mistakes, and says why', async () => {
    const document = await open('problems.udp');
    const result = await sendBlock(document.uri, 5);
    assert.equal(result?.outcome, 'not-sent');
    assert.equal(result?.summary, '✗ 3 problems to fix');
    assert.match(result?.detail ?? '', /first on line 7: Bad @timeout "abc"/);
  });

  it('puts a Send lens above each block, and the result beside it after a send to a real echo server', async () => {
    const internals = await getInternals();
    const server = await templateServer();
    const document = await open('runAll.udp');
    const before = await lenses(document.uri);
    assert.deepEqual(
      before.map(({ line, title }) => [line, title]),
      [
        [4, '$(send) Send'],
        [9, '$(send) Send'],
        [14, '$(send) Send'],
        [19, '$(send) Send'],
        [24, '$(send) Send'],
      ],
    );
    assert.deepEqual(before[0].args, { uri: document.uri.toString(), line: 4 });

    const mark = logMark(internals);
    const result = await withSettings({ 'send.target': at(server) }, () => sendBlock(document.uri, 4));
    assert.ok(result);
    assert.equal(result.outcome, 'passed', result.detail);
    assert.match(result.reply ?? '', /^Data received: hello number \d+$/);
    assert.equal(result.target, at(server));
    assert.match(result.summary, /^✓ \d+ B in \d+(\.\d+)? ms$/);
    const after = await waitFor('the result lens', async () => {
      const all = await lenses(document.uri);
      return all.length === 6 && all;
    });
    assert.deepEqual(
      after.filter((lens) => lens.line === 4).map((lens) => lens.title),
      ['$(send) Send', result.summary],
    );
    assert.ok(
      logSince(internals, mark).includes(`[contains] ${result.summary}: reply contains "Data received: hello"`),
      logSince(internals, mark).join('\n'),
    );
  });

  it('sends the block under the cursor, and Rerun Last sends it again', async () => {
    const server = await templateServer();
    await open('runAll.udp');
    const editor = vscode.window.activeTextEditor;
    assert.ok(editor);
    editor.selection = new vscode.Selection(12, 2, 12, 2);
    await withSettings({ 'send.target': at(server) }, async () => {
      const first = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock');
      assert.equal(first?.name, 'matches');
      assert.equal(first?.outcome, 'passed', first?.detail);
      const again = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.rerunLast');
      assert.equal(again?.name, 'matches');
      assert.equal(again?.outcome, 'passed');
      assert.notEqual(again?.reply, first?.reply, '{{$seq}} counts on');
    });
  });

  it('gives the results `udpw run` gives for the same file: one function decides for the editor and the command line', async function () {
    this.timeout(60_000);
    const server = await templateServer(150);
    const document = await open('runAll.udp');
    const run = await withSettings({ 'send.target': at(server) }, () =>
      vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', document.uri),
    );
    assert.ok(run);
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    // Asynchronously: the echo server answering both runs lives in this extension host, on its event loop.
    const cli = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const args = [
        path.join(extension.extensionPath, 'dist', 'cli.js'),
        'run',
        document.uri.fsPath,
        '--target',
        at(server),
        '--reporter',
        'json',
      ];
      const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
      const child = execFile(process.execPath, args, { encoding: 'utf8', timeout: 30_000, env }, (_error, stdout, stderr) =>
        resolve({ status: child.exitCode, stdout, stderr }),
      );
    });
    assert.equal(cli.status, 1, `udpw run fails as Run All does: ${cli.stderr}`);
    const [file] = (JSON.parse(cli.stdout) as { files: Array<{ counts: RunSummary; blocks: BlockResult[] }> }).files;
    // Round trips differ from run to run, and {{$seq}} counts on across sends: digits are compared as digits.
    const shown = (results: readonly BlockResult[], lineBase: number): string[][] =>
      results.map((r) => [r.name, String(r.line + lineBase), r.outcome, r.detail.replace(/\d+(\.\d+)?/g, '#')]);
    assert.deepEqual(shown(file.blocks, -1), shown(run.results, 0));
    assert.deepEqual(
      { ...file.counts, roundTrip: file.counts.roundTrip.count },
      { ...run.summary, roundTrip: run.summary.roundTrip.count },
    );
    assert.deepEqual(
      run.results.map((r) => r.outcome),
      ['passed', 'passed', 'failed', 'timeout', 'passed'],
    );
  });

  it('runs all blocks in order and sums up passes, failures, timeouts and round trips', async () => {
    const internals = await getInternals();
    const server = await templateServer(150);
    const document = await open('runAll.udp');
    const mark = logMark(internals);
    const run = await withSettings({ 'send.target': at(server), 'send.backoff': 1 }, () =>
      vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', document.uri),
    );
    assert.ok(run);
    assert.deepEqual(
      run.results.map((r) => [r.name, r.outcome]),
      [
        ['contains', 'passed'],
        ['matches', 'passed'],
        ['equals, and fails', 'failed'],
        ['too impatient', 'timeout'],
        ['hex', 'passed'],
      ],
    );
    assert.equal(run.results[2].detail, 'expected a reply that equals "pong", got 19 B: "Data received: ping"');
    assert.equal(run.results[3].summary, '✗ timed out after 1 try');
    assert.equal(run.results[4].reply, 'Data received: hi');
    assert.deepEqual(
      { ...run.summary, roundTrip: run.summary.roundTrip.count },
      { total: 5, passed: 3, failed: 1, timedOut: 1, notSent: 0, measured: 0, cancelled: 0, roundTrip: 4 },
    );
    assert.ok((run.summary.roundTrip.min ?? 0) >= 140, `the server waits 150 ms before each reply; min ${run.summary.roundTrip.min}`);
    assert.match(run.text, /^5 blocks: 3 passed, 1 failed, 1 timed out; round trip over 4 replies: p50 \S+ ms, p99 \S+ ms, max \S+ ms$/);
    assert.ok(logSince(internals, mark).includes(`Run All runAll.udp: ${run.text}`), logSince(internals, mark).join('\n'));

    const shown = await waitFor('a result lens on every block', async () => {
      const all = await lenses(document.uri);
      return all.length === 10 && all;
    });
    assert.deepEqual(
      shown.filter((lens) => !lens.title.startsWith('$(send)')).map((lens) => lens.title.slice(0, 2)),
      ['✓ ', '✓ ', '✗ ', '✗ ', '✓ '],
    );

    const rerun = await vscode.commands.executeCommand<RunAllResult>('udpWorkbench.rerunLast');
    assert.equal(rerun?.results.length, 5, 'Rerun Last repeats Run All');
  });

  it('sends a burst to a lossy echo server and reports loss and round trips', async () => {
    const internals = await getInternals();
    const server = await startServer({ simulation: { dropInbound: 0.25, seed: 11 } });
    const document = await open('burst.udp');
    const mark = logMark(internals);
    const result = await withSettings({ 'send.target': at(server) }, () => sendBlock(document.uri, 1));
    assert.ok(result?.burst, JSON.stringify(result));
    assert.equal(result.outcome, 'measured');
    assert.equal(result.burst.sent, 200);
    assert.equal(result.burst.received + result.burst.lost, 200);
    assert.ok(result.burst.lossPercent > 10 && result.burst.lossPercent < 40, `loss ${result.burst.lossPercent}%`);
    assert.ok(result.burst.stats.p50 !== undefined && result.burst.stats.p99 !== undefined);
    // A loaded machine may not keep the rate, and then says so.
    assert.match(result.summary, /^⚠ 200 sent · \d+\.\d% lost · (?:rate [\d,]+\/s of [\d,]+\/s asked · )?p50 \S+ ms · p99 \S+ ms$/);
    assert.ok(
      logSince(internals, mark).includes(`[packet loss] ${result.summary}: ${result.detail}`),
      logSince(internals, mark).join('\n'),
    );
  });

  it('cancels a burst through the command, which reports how many went out and came back', async () => {
    const internals = await getInternals();
    const server = await startServer();
    const content = `### long burst\n@target ${at(server)}\n@repeat 100000\n@rate 200/s\nping\n`;
    const document = await vscode.workspace.openTextDocument({ language: 'udp', content });
    const cancellation = new vscode.CancellationTokenSource();
    const mark = logMark(internals);
    try {
      const sending = vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock', {
        uri: document.uri.toString(),
        line: 0,
        cancellation: cancellation.token,
      });
      await waitFor('the first datagrams at the server', () => (internals.workbench.server(server.id)?.counters.received ?? 0) >= 20);
      cancellation.cancel();
      const result = await sending;
      assert.equal(result?.outcome, 'cancelled', JSON.stringify(result));
      assert.ok(result.burst?.cancelled);
      const { sent, received, lost } = result.burst;
      assert.ok(sent >= 20 && sent < 100_000, `sent ${sent}`);
      assert.equal(received + lost, sent);
      await waitFor('the server to count every datagram sent', () => internals.workbench.server(server.id)?.counters.received === sent);
      assert.match(result.summary, new RegExp(`^⊘ cancelled after ${sent.toLocaleString('en-US')} of 100,000 sent · \\d+\\.\\d% lost · `));
      assert.ok(
        logSince(internals, mark).includes(`[long burst] ${result.summary}: ${result.detail}`),
        logSince(internals, mark).join('\n'),
      );
    } finally {
      cancellation.dispose();
    }
  });

  it('cancels Run All at the block being sent, and sends none after it', async () => {
    const silent = await startServer({ replyMode: 'none' });
    const echo = await startServer();
    const content = `### waits\n@target ${at(silent)}\n@timeout 10s\n@retries 3\nping\n\n### never sent\n@target ${at(echo)}\nping\n`;
    const document = await vscode.workspace.openTextDocument({ language: 'udp', content });
    const cancellation = new vscode.CancellationTokenSource();
    try {
      const started = Date.now();
      const running = vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', {
        uri: document.uri.toString(),
        cancellation: cancellation.token,
      });
      setTimeout(() => cancellation.cancel(), 300);
      const run = await running;
      assert.ok(Date.now() - started < 5000, 'the 10 s wait was cut short');
      assert.deepEqual(
        run?.results.map((r) => [r.name, r.outcome, r.summary]),
        [['waits', 'cancelled', '⊘ cancelled']],
      );
      assert.equal(run.summary.cancelled, 1);
      assert.match(run.text, /^1 block: 0 passed, 0 failed, 0 timed out, 1 cancelled/);
      const internals = await getInternals();
      assert.equal(internals.workbench.server(echo.id)?.counters.received, 0);
    } finally {
      cancellation.dispose();
    }
  });

  it('fills in {{$seq}} for each datagram of a burst, and numbers the next send after it', async () => {
    const internals = await getInternals();
    const server = await startServer();
    const received: Buffer[] = [];
    const listening = internals.workbench.events.subscribe((event) => {
      if (event.kind === 'received' && event.serverId === server.id) received.push(event.payload);
    });
    const content = `@server = ${at(server)}\n\n### numbered burst\n@target {{server}}\n@repeat 3\nb{{$seq}}\n\n### after it\n@target {{server}}\ns{{$seq}}\n`;
    const document = await vscode.workspace.openTextDocument({ language: 'udp', content });
    try {
      const run = await vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', { uri: document.uri.toString() });
      assert.deepEqual(
        run?.results.map((r) => r.outcome),
        ['passed', 'passed'],
        JSON.stringify(run?.results.map((r) => r.detail)),
      );
    } finally {
      listening.dispose();
    }
    // A burst datagram ends in an 8-byte tag that matches its reply; the single send has none.
    const sent = received
      .map((payload) => (payload[0] === 0x62 ? payload.subarray(0, -8) : payload).toString('utf8'))
      .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
    const first = Number(sent[0].slice(1));
    assert.deepEqual(sent, [`b${first}`, `b${first + 1}`, `b${first + 2}`, `s${first + 3}`]);
  });

  it('escapes bidirectional and control characters of block names and @expect text in the log', async () => {
    const internals = await getInternals();
    const server = await startServer({ replyMode: 'mirror' });
    const content = `### pay\u202eexe.txt\n@target ${at(server)}\n@expect equals "ok\u2066"\nhello \\\\ "there"\n`;
    // A name of its own: an untitled document another test opened may still be known as Untitled-1.
    const document = await vscode.workspace.openTextDocument(vscode.Uri.from({ scheme: 'untitled', path: `escaping-${Date.now()}.udp` }));
    const editor = await vscode.window.showTextDocument(document);
    await editor.edit((edit) => edit.insert(new vscode.Position(0, 0), content));
    const mark = logMark(internals);
    const run = await vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', document.uri);
    assert.equal(run?.results[0]?.outcome, 'failed', run?.results[0]?.detail);
    const lines = logSince(internals, mark);
    assert.ok(
      lines.includes(
        String.raw`[pay\u202eexe.txt] ✗ expectation failed: expected a reply that equals "ok\u2066", got 15 B: "hello \\ \"there\""`,
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.every((line) => !/[\u202e\u2066]/u.test(line)),
      lines.join('\n'),
    );
  });

  it('checks a reply against a nested quantifier without freezing the host, and marks what RE2 cannot run', async () => {
    const server = await templateServer();
    const document = await open('patterns.udp');
    const marks = await waitFor('diagnostics for patterns.udp', () => {
      const found = vscode.languages.getDiagnostics(document.uri);
      return found.length >= 1 && found;
    });
    assert.deepEqual(
      marks.map((d) => `${d.range.start.line}:${d.range.start.character}`),
      ['6:16'],
    );
    assert.match(marks[0].message, /RE2 has no lookbehind/);
    // A backtracking engine would try 2^30 ways to split the a's before failing at "!": minutes with the host frozen.
    const result = await withSettings({ 'send.target': at(server) }, () => sendBlock(document.uri, 1));
    assert.equal(result?.outcome, 'failed', result?.detail);
    assert.match(result?.detail ?? '', /^expected a reply that matches \/\^\(Data received: \)\?\(a\+\)\+\$\/, got 46 B/);
  });

  it('reports a block nothing answers as not sent, with the reason', async () => {
    const server = await templateServer();
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    const document = await open('runAll.udp');
    const run = await withSettings({ 'send.target': at(server) }, () =>
      vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', { uri: document.uri.toString() }),
    );
    // The impatient block may give up before the "port unreachable" answer comes back.
    assert.ok((run?.summary.notSent ?? 0) >= 4, JSON.stringify(run?.results.map((r) => r.detail)));
    assert.match(run?.results[0].detail ?? '', /Nothing is listening on 127\.0\.0\.1:\d+/);
  });

  for (const replyMode of ['mirror', 'template', 'none'] as const) {
    it(`opens a new datagram file aimed at the running server replying ${replyMode}, and Run All passes every block untouched`, async () => {
      // The template is the settings' default, the tutorial's "Data received: ${text}".
      const server = await startServer({ replyMode });
      const uri = await vscode.commands.executeCommand<string>('udpWorkbench.newDatagramFile');
      const document = vscode.window.activeTextEditor?.document;
      assert.ok(document);
      assert.equal(document.uri.toString(), uri);
      assert.equal(document.languageId, 'udp');
      assert.match(document.getText(), new RegExp(`^@server = 127\\.0\\.0\\.1:${server.port}$`, 'm'));
      const run = await vscode.commands.executeCommand<RunAllResult>('udpWorkbench.runAllBlocks', { uri });
      assert.ok(run);
      const outcomes = run.results.map((r) => [r.name, r.outcome, r.detail]);
      assert.equal(run.summary.passed, run.summary.total, JSON.stringify(outcomes, null, 1));
      assert.deepEqual(
        run.results.map((r) => r.name),
        [
          'hello',
          'heartbeat with a deadline',
          'binary',
          ...(replyMode === 'mirror' ? ['packet loss: a burst of 1000 datagrams at 200/s'] : []),
        ],
      );
    });
  }
});
