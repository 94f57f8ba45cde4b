import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { ProxyLinks } from '../../src/core/impairment/impairmentProxy';
import type { ProxyInfo } from '../../src/vscode/proxyCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { getInternals, logMark, logSince, roundTrip, waitFor } from './helpers';

describe('Impairment proxy commands', () => {
  afterEach(async () => {
    const api = await getInternals();
    for (const proxy of api.workbench.runningProxies) await vscode.commands.executeCommand('udpWorkbench.stopProxy', proxy.id);
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
  });

  it('starts from args in front of a server, forwards both ways, and logs each way', async () => {
    const api = await getInternals();
    const mark = logMark(api);
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(server);
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${server.port}`,
      toServer: 'delay=5ms seed=3',
    });
    assert.ok(proxy);
    assert.equal(proxy.upstream, `127.0.0.1:${server.port}`);
    assert.equal(proxy.links.toServer.delayMs, 5);
    assert.equal(await roundTrip('127.0.0.1', proxy.port, 'through the proxy'), 'through the proxy');
    const lines = await waitFor('both directions in the log', () => {
      const since = logSince(api, mark);
      return since.some((line) => line.includes('server → client #1 forwarded')) && since;
    });
    assert.ok(
      lines.some((line) =>
        line.startsWith(`[${proxy.id}] impairment proxy listening on 127.0.0.1:${proxy.port}, forwarding to 127.0.0.1:${server.port}`),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((line) => line.startsWith(`[${proxy.id}] session 1 opened for 127.0.0.1:`)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some(
        (line) => line.includes('client → server #1 forwarded') && line.includes('(after 5.00 ms)') && line.endsWith('"through the proxy"'),
      ),
      lines.join('\n'),
    );
    const status = api.statusBar();
    assert.match(status.text, /proxy/);
    assert.ok(status.tooltip.includes(`proxy \`127.0.0.1:${proxy.port}\` → \`127.0.0.1:${server.port}\``), status.tooltip);
  });

  it('shows both legs through the proxy in the traffic view, a reply it dropped marked with its reason and direction', async () => {
    const api = await getInternals();
    await vscode.commands.executeCommand('udpWorkbench.showTraffic');
    await waitFor('the traffic view to show', () => api.trafficView().visible && api.trafficView().last !== undefined, 20_000);
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${server!.port}`,
      toClient: 'loss=100%',
    });
    assert.ok(proxy);
    const text = `proxy rows ${Date.now()}`;
    assert.equal(await roundTrip('127.0.0.1', proxy.port, text, 300), undefined, 'the reply is lost on the way back');
    const here = `127.0.0.1:${proxy.port}`;
    const upstream = `127.0.0.1:${server!.port}`;
    const rows = await waitFor('the three legs in the list', () => {
      const shown = api.trafficView().last?.rows.filter((row) => row.preview.includes(text)) ?? [];
      return shown.length === 3 && shown;
    });
    assert.deepEqual(
      rows.map((row) => [
        row.direction,
        row.fate,
        row.direction === 'in' && row.local === here ? 'proxy' : row.peer === upstream ? 'server' : row.local,
        row.note,
      ]),
      [
        ['in', 'forwarded', 'proxy', ''],
        ['out', 'forwarded', 'server', 'forwarded client → server'],
        ['in', 'dropped', 'server', 'dropped by the proxy (simulated loss, server → client)'],
      ],
      JSON.stringify(rows, undefined, 2),
    );
  });

  it('changes one direction live through Configure Simulation, and back', async () => {
    const api = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${server!.port}`,
    });
    assert.ok(proxy);
    const mark = logMark(api);
    const links = await vscode.commands.executeCommand<ProxyLinks>('udpWorkbench.configureSimulation', {
      proxyId: proxy.id,
      direction: 'to-client',
      spec: 'loss=100%',
    });
    assert.equal(links?.toClient.loss, 1);
    assert.equal(links?.toServer.loss, 0);
    assert.equal(await roundTrip('127.0.0.1', proxy.port, 'lost on the way back', 300), undefined);
    await waitFor('the drop in the log', () =>
      logSince(api, mark).some((line) => line.includes('server → client #1 dropped') && line.includes('(simulated loss)')),
    );
    assert.equal(api.workbench.proxy(proxy.id)?.counters.toServer.forwarded, 1);
    await vscode.commands.executeCommand('udpWorkbench.configureSimulation', { proxyId: proxy.id, direction: 'both', spec: 'off' });
    assert.equal(await roundTrip('127.0.0.1', proxy.port, 'back again'), 'back again');
    assert.ok(logSince(api, mark).some((line) => line === `[${proxy.id}] server → client: no impairment`));
  });

  it('says what is wrong with a bad spec, and starts nothing', async () => {
    const api = await getInternals();
    const mark = logMark(api);
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:9',
      toServer: 'loss=5ms',
    });
    assert.equal(proxy, undefined);
    assert.equal(api.workbench.runningProxies.length, 0);
    await waitFor('the error in the log', () => logSince(api, mark).some((line) => line.includes('"loss=5ms" has the wrong unit')));
  });

  // Stopping with the extension host: deactivate.test.ts, the last file.
  it('stops by id', async () => {
    const api = await getInternals();
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: '127.0.0.1:9',
    });
    assert.ok(proxy);
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.stopProxy', proxy.id), true);
    assert.equal(api.workbench.runningProxies.length, 0);
    assert.equal(await vscode.commands.executeCommand('udpWorkbench.stopProxy', proxy.id), false);
  });
});
