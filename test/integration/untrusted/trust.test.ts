// Runs only in a folder VS Code does not trust (see index.ts beside this file). The folder's
// .vscode/settings.json asks for a server on 0.0.0.0 at startup and sends to 192.0.2.1:9.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import type { WorkbenchEvent } from '../../../src/core/events';
import type { SendSelectionResult } from '../../../src/vscode/sendCommands';
import { closeEditors, editorWith, EXTENSION_ID, getApi, waitFor } from '../helpers';

/** What the folder's settings ask for, and the defaults from package.json that must apply instead. */
const RESTRICTED = {
  'server.autoStart': { folder: true, default: false },
  'server.bindAddress': { folder: '0.0.0.0', default: '127.0.0.1' },
  'server.port': { folder: 47613, default: 12345 },
  'send.target': { folder: '192.0.2.1:9', default: '127.0.0.1:12345' },
  'server.rateLimitPerSecond': { folder: 0, default: 1000 },
  'server.rateLimitBurst': { folder: 1000000, default: 2000 },
  'server.allowAmplification': { folder: true, default: false },
} as const;

/** A plain socket on 127.0.0.1:port that echoes and remembers what it receives; retried while the port is busy. */
async function listenOn(port: number): Promise<{ socket: dgram.Socket; received: string[] }> {
  const received: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(port, '127.0.0.1', () => resolve());
      });
      socket.on('message', (message, peer) => {
        received.push(message.toString('utf8'));
        socket.send(message, peer.port, peer.address);
      });
      return { socket, received };
    } catch (error) {
      socket.close();
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function canBind(port: number, address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind(port, address, () => socket.close(() => resolve(true)));
  });
}

describe('In a folder VS Code does not trust (Restricted Mode)', () => {
  it('is untrusted, and the folder’s settings file was read', () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite must run with --workspace-trust in the untrusted fixture folder');
    assert.match(vscode.workspace.workspaceFolders?.[0]?.uri.path ?? '', /untrusted-workspace$/);
    // A setting that is not restricted applies from the folder, so the file is not simply missing.
    const previewBytes = vscode.workspace.getConfiguration('udpWorkbench').inspect<number>('log.previewBytes');
    assert.equal(previewBytes?.workspaceValue, 77);
    assert.equal(vscode.workspace.getConfiguration('udpWorkbench').get('log.previewBytes'), 77);
  });

  it('activates in limited mode, with its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    const untrusted = extension.packageJSON.capabilities?.untrustedWorkspaces;
    assert.equal(untrusted?.supported, 'limited');
    for (const key of Object.keys(RESTRICTED)) assert.ok(untrusted.restrictedConfigurations.includes(`udpWorkbench.${key}`), `${key} is not restricted`);
    await getApi();
    assert.equal(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const command of ['udpWorkbench.startServer', 'udpWorkbench.sendSelection', 'udpWorkbench.showLog']) assert.ok(commands.includes(command), command);
  });

  it('ignores the folder’s bind address, port, auto-start, target and protection settings: VS Code returns the defaults', () => {
    const config = vscode.workspace.getConfiguration('udpWorkbench');
    for (const [key, { folder, default: fallback }] of Object.entries(RESTRICTED)) {
      const inspected = config.inspect(key);
      console.log(`      ${key}: get() ${JSON.stringify(config.get(key))}, inspect().workspaceValue ${JSON.stringify(inspected?.workspaceValue)}`);
      assert.equal(config.get(key), fallback, `${key} should be the default, not the folder's ${JSON.stringify(folder)}`);
      assert.notEqual(inspected?.workspaceValue, folder, `${key}: the folder's value is visible to the extension`);
    }
  });

  it('starts no server at startup, and leaves the folder’s port free', async () => {
    const api = await getApi();
    // Give a (wrong) auto-start time to bind: it would have begun when the extension activated.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(api.workbench.runningServers, []);
    assert.ok(!api.logLines().some((line) => line.includes('echo server listening')), api.logLines().join('\n'));
    assert.equal(await canBind(RESTRICTED['server.port'].folder, '127.0.0.1'), true, 'something holds the folder’s port');
  });

  it('sends the selection to the default target 127.0.0.1:12345, not to the folder’s', async function () {
    this.timeout(30_000);
    // Run trusted by mistake, this would send to the folder's 192.0.2.1: stop before anything is sent.
    assert.equal(vscode.workspace.isTrusted, false);
    assert.equal(vscode.workspace.getConfiguration('udpWorkbench').get('send.target'), RESTRICTED['send.target'].default);
    const api = await getApi();
    const targets: string[] = [];
    const subscription = api.workbench.events.subscribe((event: WorkbenchEvent) => {
      if (event.kind === 'sent') targets.push(`${event.target.address}:${event.target.port}`);
    });
    const listener = await listenOn(12345);
    try {
      await editorWith('hello from an untrusted folder', [[0, 0, 0, 0]]);
      const result = await vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.sendSelection');
      assert.ok(result, 'nothing was sent');
      assert.equal(result.target, '127.0.0.1:12345');
      assert.equal(result.datagrams[0]?.reply, 'hello from an untrusted folder');
      await waitFor('the datagram at 127.0.0.1:12345', () => listener.received.length > 0);
      assert.deepEqual(listener.received, ['hello from an untrusted folder']);
      assert.deepEqual(targets, ['127.0.0.1:12345']);
    } finally {
      subscription.dispose();
      listener.socket.close();
      await closeEditors();
    }
  });
});
