import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import type { SendSelectionResult } from '../../src/vscode/sendCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { closeEditors, editorWith, getInternals, logMark, logSince, waitFor, withSettings } from './helpers';

const FLOOD = 3000;

/**
 * Sends `count` datagrams from a child process while the extension host waits for it synchronously, so the
 * server's socket is not read and its small receive buffer overflows. Returns how many sends succeeded.
 */
function floodWhileBlocked(port: number, count: number): number {
  const script = `
    const socket = require('node:dgram').createSocket('udp4');
    const payload = Buffer.alloc(200, 0x62);
    let sent = 0, settled = 0;
    for (let i = 0; i < ${count}; i++) {
      socket.send(payload, ${port}, '127.0.0.1', (error) => {
        if (!error) sent++;
        if (++settled === ${count}) { process.stdout.write(String(sent)); socket.close(); }
      });
    }`;
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
  });
  assert.equal(child.status, 0, child.stderr);
  return Number(child.stdout);
}

const count = (text: string): number => Number(text.replace(/,/g, ''));

describe('Real loss, where the user looks', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  it('logs the buffer the system granted, and shows what the system dropped in the log, status bar and tooltip', async function () {
    this.timeout(60_000);
    const internals = await getInternals();
    const mark = logMark(internals);
    const kernelBefore = internals.workbench.totals.server.kernelDropped ?? 0;
    const server = await withSettings({ 'server.recvBufferSize': 4096 }, () =>
      vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0, replyMode: 'none' }),
    );
    assert.ok(server);
    const echo = internals.workbench.server(server.id);
    assert.ok(echo);
    const buffers = logSince(internals, mark).find((line) => line.startsWith(`[${server.id}] receive buffer`));
    assert.equal(
      buffers,
      `[${server.id}] receive buffer ${echo.buffers.receive.toLocaleString('en-US')} bytes (asked for 4,096 bytes), ` +
        `send buffer ${echo.buffers.send.toLocaleString('en-US')} bytes (system default), as the system reports them`,
    );
    assert.equal(echo.buffers.receive, 8192, 'Linux reports double what was asked');

    const sent = floodWhileBlocked(server.port, FLOOD);
    assert.equal(sent, FLOOD);
    const kernel = await waitFor(
      'received + dropped by the system to add up to sent',
      () => {
        const dropped = internals.workbench.kernelDroppedBy(server.id) ?? 0;
        return echo.counters.received + dropped >= sent && dropped;
      },
      15_000,
    );
    assert.equal(kernel, sent - echo.counters.received);
    assert.ok(kernel > 0);

    const lines = await waitFor('the system drops in the log', () => {
      const since = logSince(internals, mark).filter((line) => line.startsWith(`[${server.id}] the system dropped`));
      const logged = since.reduce((sum, line) => sum + count(/the system dropped ([\d,]+) datagram/.exec(line)?.[1] ?? '0'), 0);
      return logged === kernel && since;
    });
    assert.match(
      lines[0],
      new RegExp(
        `for ${server.id}: its receive buffer was full .*the buffer is 8,192 bytes.* a larger receive buffer \\(the Recv Buffer Size setting\\)`,
      ),
    );

    const status = internals.statusBar();
    const shown = /✗[\d,]+ · ([\d,]+) dropped by the system/.exec(status.text);
    assert.ok(shown, status.text);
    assert.equal(count(shown[1]), kernelBefore + kernel);
    assert.equal(status.totals.kernelDropped, kernelBefore + kernel);
    assert.ok(status.tooltip.includes(`${kernel.toLocaleString('en-US')} dropped by the system (receive buffer full)`), status.tooltip);
  });

  it('shows timeouts and give-ups apart from drops, and goes to the last target on the next Send Selection', async function () {
    this.timeout(30_000);
    const internals = await getInternals();
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const target = `127.0.0.1:${silent.address().port}`;
    try {
      const before = internals.statusBar().totals;
      await editorWith('anyone there?', [[0, 0, 0, 0]]);
      const result = await withSettings({ 'send.timeoutMs': 100, 'send.retries': 1 }, () =>
        vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.sendSelectionTo', { target }),
      );
      assert.equal(result?.datagrams[0].outcome, 'timeout');
      const status = internals.statusBar();
      assert.equal(status.totals.timeouts, before.timeouts + 2);
      assert.equal(status.totals.gaveUp, before.gaveUp + 1);
      assert.ok(
        status.text.includes(
          `⏱${(before.timeouts + 2).toLocaleString('en-US')} timed out, ${(before.gaveUp + 1).toLocaleString('en-US')} gave up`,
        ),
        status.text,
      );
      assert.ok(status.tooltip.includes(`Send Selection sends to \`${target}\``), status.tooltip);

      // Without a target, Send Selection goes where the last send went, not to the setting.
      const again = await withSettings({ 'send.timeoutMs': 100, 'send.retries': 0 }, () =>
        vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.sendSelection'),
      );
      assert.equal(again?.target, target);
    } finally {
      silent.close();
    }
  });
});
