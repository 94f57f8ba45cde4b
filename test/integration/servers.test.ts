import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { getInternals, logMark, logSince, roundTrip, waitFor, withSettings } from './helpers';

describe('Echo server commands', () => {
  afterEach(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
  });

  it('starts a server on IPv4 and IPv6 at once, on the free ports it was given', async () => {
    const internals = await getInternals();
    const before = internals.statusBar().totals;
    const v4 = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    const v6 = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '::1', port: 0 });
    assert.ok(v4 && v6);
    assert.equal(v4.family, 'IPv4');
    assert.equal(v6.family, 'IPv6');
    assert.ok(v4.port > 0 && v6.port > 0);
    assert.equal(await roundTrip('127.0.0.1', v4.port, 'over v4'), 'over v4');
    assert.equal(await roundTrip('::1', v6.port, 'over v6'), 'over v6');
    assert.equal(internals.workbench.runningServers.length, 2);
    const status = internals.statusBar();
    const shown = (n: number): string => n.toLocaleString('en-US');
    assert.ok(
      status.text.startsWith(
        `$(radio-tower) 2 servers  ↓${shown(before.received + 2)} ↑${shown(before.sent + 2)} ✗${shown(before.dropped)}`,
      ),
      status.text,
    );
    assert.match(status.tooltip, new RegExp(`127\\.0\\.0\\.1:${v4.port}`));
    assert.match(status.tooltip, new RegExp(`\\[::1\\]:${v6.port}`));
  });

  it('answers with the template when asked to', async () => {
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '127.0.0.1',
      port: 0,
      replyMode: 'template',
      template: 'Data received: ${text} (${size} bytes, #${seq})',
    });
    assert.ok(server);
    assert.equal(await roundTrip('127.0.0.1', server.port, 'ping'), 'Data received: ping (4 bytes, #1)');
  });

  it('logs each datagram it receives and replies to, and shows the counts in the status bar', async () => {
    const internals = await getInternals();
    const mark = logMark(internals);
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    await roundTrip('127.0.0.1', server.port, 'hello log');
    const lines = await waitFor('the reply in the log', () => {
      const since = logSince(internals, mark);
      return since.some((line) => line.includes('replied to #1')) && since;
    });
    assert.ok(lines.includes(`[${server.id}] echo server listening on 127.0.0.1:${server.port}`), lines.join('\n'));
    assert.ok(
      lines.some((line) => line.startsWith(`[${server.id}] received #1 from 127.0.0.1:`) && line.endsWith(', 9 bytes: "hello log"')),
      lines.join('\n'),
    );
    assert.match(internals.statusBar().text, new RegExp(`127\\.0\\.0\\.1:${server.port}\\s+↓[\\d,]+ ↑[\\d,]+ ✗[\\d,]+`));
  });

  it('says a busy port is in use, and starts nothing', async () => {
    const internals = await getInternals();
    const first = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(first);
    const mark = logMark(internals);
    const second = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: first.port });
    assert.equal(second, undefined);
    assert.equal(internals.workbench.runningServers.length, 1);
    assert.ok(
      logSince(internals, mark).some((line) => line.includes(`${first.port}`) && /already in use/.test(line)),
      logSince(internals, mark).join('\n'),
    );
  });

  it('stops a server by id, idempotently, and frees its port at once', async () => {
    const internals = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.stopServer', server.id), true);
    assert.equal(internals.workbench.runningServers.length, 0);
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.stopServer', server.id), false);
    const again = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: server.port });
    assert.equal(again?.port, server.port);
    assert.match(internals.statusBar().text, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.stopAllServers'), 1);
    assert.match(internals.statusBar().text, /^\$\(circle-slash\) UDP/);
  });

  it('simulates loss live with a seed, logging and counting every drop', async () => {
    const internals = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    const mark = logMark(internals);
    const droppedBefore = internals.statusBar().totals.dropped;
    const simulation = await vscode.commands.executeCommand('udpWorkbench.configureSimulation', {
      serverId: server.id,
      spec: 'loss=100% seed=9',
    });
    assert.deepEqual(simulation, { ...server.simulation, dropInbound: 1, seed: 9 });
    assert.equal(await roundTrip('127.0.0.1', server.port, 'lost', 200), undefined);
    const lines = await waitFor(
      'the drop in the log',
      () => logSince(internals, mark).some((l) => l.includes('dropped #1')) && logSince(internals, mark),
    );
    assert.ok(
      lines.some((l) => /dropped #1 from 127\.0\.0\.1:\d+ \(simulated loss on the way in\), 4 bytes: "lost"/.test(l)),
      lines.join('\n'),
    );
    assert.equal(internals.statusBar().totals.dropped, droppedBefore + 1);
    assert.match(internals.statusBar().text, new RegExp(`✗${(droppedBefore + 1).toLocaleString('en-US')}(?: · |$)`));

    await vscode.commands.executeCommand('udpWorkbench.configureSimulation', { serverId: server.id, spec: 'off' });
    assert.equal(await roundTrip('127.0.0.1', server.port, 'back'), 'back');
  });

  it('rejects a bad simulation with the reason, and keeps the old one', async () => {
    const internals = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '127.0.0.1',
      port: 0,
      simulation: { dropInbound: 0.25 },
    });
    assert.ok(server);
    const mark = logMark(internals);
    assert.equal(
      await vscode.commands.executeCommand('udpWorkbench.configureSimulation', { serverId: server.id, spec: 'loss=250%' }),
      undefined,
    );
    assert.ok(
      logSince(internals, mark).some((l) => /dropInbound|loss/.test(l) && /250|2\.5/.test(l)),
      logSince(internals, mark).join('\n'),
    );
    assert.equal(internals.workbench.server(server.id)?.simulation.dropInbound, 0.25);
  });

  it('logs each live change to a running server once, and shows it in the status bar at once, with no traffic', async () => {
    const internals = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    const received = internals.statusBar().totals.received;
    const changes: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ 'server.replyMode': 'none' }, `[${server.id}] replies: none (listening only)`, /replies: none \(listening only\)/],
      [{ 'simulation.dropInboundPercent': 25 }, `[${server.id}] simulation: 25% lost in (seed 1)`, /simulation: 25% lost in/],
      [
        { 'server.rateLimitPerSecond': 50 },
        `[${server.id}] rate limit 50/s per peer, bursts of 2000, loopback exempt; amplification guard on`,
        /rate limit 50\/s per peer/,
      ],
    ];
    for (const [values, line, shown] of changes) {
      const mark = logMark(internals);
      await withSettings(values, async () => {
        const lines = await waitFor(`"${line}" in the log`, () => logSince(internals, mark).length > 0 && logSince(internals, mark));
        await new Promise((resolve) => setTimeout(resolve, 500));
        assert.deepEqual(logSince(internals, mark), [line]);
        assert.deepEqual(lines, [line]);
        assert.match(internals.statusBar().tooltip, shown);
      });
    }
    const mark = logMark(internals);
    await vscode.commands.executeCommand('udpWorkbench.configureSimulation', { serverId: server.id, spec: 'delay=5ms' });
    assert.match(internals.statusBar().tooltip, /simulation: 5 ms delay/);
    assert.deepEqual(logSince(internals, mark), [`[${server.id}] simulation: 5 ms delay (seed 1)`]);
    assert.equal(internals.statusBar().totals.received, received, 'no datagram was needed to show the changes');
  });

  it('applies changed settings to running servers at once', async () => {
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    await withSettings({ 'server.replyMode': 'template', 'server.template': 'got ${size}' }, async () => {
      assert.equal(await roundTrip('127.0.0.1', server.port, 'four'), 'got 4');
      await withSettings({ 'simulation.dropInboundPercent': 100 }, async () => {
        assert.equal(await roundTrip('127.0.0.1', server.port, 'lost', 200), undefined);
      });
      assert.equal(await roundTrip('127.0.0.1', server.port, 'back'), 'got 4');
    });
    assert.equal(await roundTrip('127.0.0.1', server.port, 'mirror again'), 'mirror again');
  });
});
