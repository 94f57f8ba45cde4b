import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { CaptureResult } from '../../src/vscode/captureCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { expertProblems, readCapture } from '../unit/tshark';
import { getApi, getInternals, logMark, logSince, roundTrip } from './helpers';

describe('Capture to pcapng in the extension host', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'udpw-capture-host-'))));
  afterEach(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopCapture');
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    rmSync(dir, { recursive: true, force: true });
  });

  it('Start Capture to File, traffic through a server that drops and duplicates, Stop Capture: tshark reads every datagram and comment', async () => {
    await getApi();
    const path = join(dir, 'live.pcapng');
    const started = await vscode.commands.executeCommand<CaptureResult>('udpWorkbench.startCapture', { path });
    assert.equal(started?.path, path);
    assert.ok(existsSync(path), 'the file is created at once');
    // Every datagram is dropped on the way in, or answered twice after 30 ms: the seed cannot make this test vacuous.
    const lossy = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '127.0.0.1',
      port: 0,
      simulation: { dropInbound: 1 },
    });
    const twice = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '::1',
      port: 0,
      simulation: { duplicate: 1, delayMs: 30 },
    });
    assert.ok(lossy && twice);
    assert.equal(await roundTrip('127.0.0.1', lossy.port, 'lost on the way in', 300), undefined);
    assert.equal(await roundTrip('::1', twice.port, 'said twice'), 'said twice');
    // The duplicate may still be on its way.
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stopped = await vscode.commands.executeCommand<CaptureResult>('udpWorkbench.stopCapture');
    assert.deepEqual(stopped, { path, written: 4, notWritten: 0 });
    const decoded = readCapture(path);
    assert.ok(
      decoded[2].time - decoded[1].time >= 0.029,
      `the delayed reply left ${decoded[2].time - decoded[1].time} s after its request`,
    );
    const packets = decoded.map((p) => [
      p.source,
      p.sourcePort === lossy.port || p.sourcePort === twice.port ? 'server' : 'client',
      p.destination,
      Buffer.from(p.payload, 'hex').toString(),
      p.comment,
    ]);
    assert.deepEqual(packets, [
      ['127.0.0.1', 'client', '127.0.0.1', 'lost on the way in', 'dropped by simulation (loss on the way in)'],
      ['::1', 'client', '::1', 'said twice', ''],
      ['::1', 'server', '::1', 'said twice', 'delayed 30 ms'],
      ['::1', 'server', '::1', 'said twice', 'duplicate; delayed 30 ms'],
    ]);
    assert.deepEqual(expertProblems(path), []);

    const saved = await vscode.commands.executeCommand<CaptureResult>('udpWorkbench.saveCapture', { path: join(dir, 'saved.pcapng') });
    assert.ok(saved && saved.written >= 4);
    const recent = readCapture(saved.path).slice(-4);
    assert.deepEqual(
      recent.map((p) => p.comment),
      ['dropped by simulation (loss on the way in)', '', 'delayed 30 ms', 'duplicate; delayed 30 ms'],
    );
  });

  it('says clearly when the capture file cannot be written, and is not left capturing', async () => {
    const internals = await getInternals();
    const mark = logMark(internals);
    const result = await vscode.commands.executeCommand<CaptureResult | undefined>('udpWorkbench.startCapture', {
      path: join(dir, 'no-such-folder', 'x.pcapng'),
    });
    assert.equal(result, undefined);
    const lines = logSince(internals, mark);
    assert.ok(
      lines.some((line) => /^The folder for ".*no-such-folder\/x\.pcapng" does not exist\. Pick a folder that exists\.$/.test(line)),
      lines.join('\n'),
    );
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.saveCapture', { path: 'relative.pcapng' }), undefined);
    assert.ok(
      logSince(internals, mark).includes(
        'The capture path "relative.pcapng" is not a full path. Pass a full path, such as /tmp/capture.pcapng.',
      ),
    );
    const again = await vscode.commands.executeCommand<CaptureResult | undefined>('udpWorkbench.startCapture', {
      path: join(dir, 'ok.pcapng'),
    });
    assert.equal(again?.path, join(dir, 'ok.pcapng'));
    const stopped = await vscode.commands.executeCommand<CaptureResult | undefined>('udpWorkbench.stopCapture');
    assert.deepEqual(stopped, { path: join(dir, 'ok.pcapng'), written: 0, notWritten: 0 });
    assert.deepEqual(readCapture(join(dir, 'ok.pcapng')), []);
  });
});
