// Shuts the extension down as VS Code does when the window closes or reloads: index.ts runs this file after every
// other one, since nothing works in this extension host afterwards.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type * as extensionModule from '../../src/extension';
import type { ProxyInfo } from '../../src/vscode/proxyCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { canBind, EXTENSION_ID, getInternals } from './helpers';

describe('Deactivation (runs last)', () => {
  it('stops every server and impairment proxy with the extension host, leaving their ports free', async () => {
    const { workbench } = await getInternals();
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    const proxy = await vscode.commands.executeCommand<ProxyInfo>('udpWorkbench.startProxy', {
      listen: '127.0.0.1:0',
      upstream: `127.0.0.1:${server?.port}`,
    });
    assert.ok(server && proxy, 'the server or the proxy did not start');
    assert.deepEqual([await canBind(server.port, '127.0.0.1'), await canBind(proxy.port, '127.0.0.1')], [false, false]);

    // The module VS Code loaded and will call deactivate() on: import() (require() once compiled) hands back the same instance from
    // its cache.
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    const main = path.join(extension.extensionPath, (extension.packageJSON as { main: string }).main);
    const loaded = (await import(main)) as typeof extensionModule;
    await loaded.deactivate();

    assert.deepEqual([workbench.runningServers.length, workbench.runningProxies.length], [0, 0]);
    assert.deepEqual(
      [await canBind(server.port, '127.0.0.1'), await canBind(proxy.port, '127.0.0.1')],
      [true, true],
      'a port is still held after deactivate()',
    );
  });
});
