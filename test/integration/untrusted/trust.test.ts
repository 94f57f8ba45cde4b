// Runs only in a folder VS Code does not trust (see index.ts beside this file). The folder's
// .vscode/settings.json asks for a server on 0.0.0.0 at startup, sends to 192.0.2.1:9, and sets every
// server, simulation, send and log setting to its most harmful value.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import type { WorkbenchEvent } from '../../../src/core/events';
import type { SendSelectionResult } from '../../../src/vscode/sendCommands';
import type { ServerInfo } from '../../../src/vscode/serverCommands';
import { canBind, closeEditors, editorWith, EXTENSION_ID, getApi, getInternals, waitFor } from '../helpers';

/** What the folder's settings ask for, and the defaults from package.json that must apply instead. */
const RESTRICTED = {
  'server.autoStart': { folder: true, default: false },
  'server.bindAddress': { folder: '0.0.0.0', default: '127.0.0.1' },
  'server.port': { folder: 47613, default: 12345 },
  'server.replyMode': { folder: 'template', default: 'mirror' },
  'server.template': { folder: '${hex}${hex}${hex}${hex}', default: 'Data received: ${text}' },
  'server.rateLimitPerSecond': { folder: 0, default: 1000 },
  'server.rateLimitBurst': { folder: 1000000, default: 2000 },
  'server.allowAmplification': { folder: true, default: false },
  'simulation.seed': { folder: 666, default: 1 },
  'simulation.dropInboundPercent': { folder: 100, default: 0 },
  'simulation.dropOutboundPercent': { folder: 100, default: 0 },
  'simulation.delayMs': { folder: 60000, default: 0 },
  'simulation.jitterMs': { folder: 60000, default: 0 },
  'simulation.duplicatePercent': { folder: 100, default: 0 },
  'simulation.reorderPercent': { folder: 100, default: 0 },
  'send.target': { folder: '192.0.2.1:9', default: '127.0.0.1:12345' },
  'send.encoding': { folder: 'hex', default: 'utf8' },
  'send.timeoutMs': { folder: 600000, default: 1000 },
  'send.retries': { folder: 20, default: 2 },
  'send.backoff': { folder: 10, default: 2 },
  'log.previewBytes': { folder: 65536, default: 256 },
  'log.hexDump': { folder: 'always', default: 'auto' },
  'capture.bufferSize': { folder: 1000000, default: 10000 },
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

describe('In a folder VS Code does not trust (Restricted Mode)', () => {
  it('is untrusted, and the folder’s settings file was read', () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite must run with --workspace-trust in the untrusted fixture folder');
    assert.match(vscode.workspace.workspaceFolders?.[0]?.uri.path ?? '', /untrusted-workspace$/);
    // A setting that is not restricted (VS Code's own) applies from the folder, so the file is not simply missing.
    const tabSize = vscode.workspace.getConfiguration('editor').inspect<number>('tabSize');
    assert.equal(tabSize?.workspaceValue, 7);
    assert.equal(vscode.workspace.getConfiguration('editor').get('tabSize'), 7);
  });

  it('activates in limited mode, with its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension);
    const untrusted = extension.packageJSON.capabilities?.untrustedWorkspaces;
    assert.equal(untrusted?.supported, 'limited');
    for (const key of Object.keys(RESTRICTED)) {
      assert.ok(untrusted.restrictedConfigurations.includes(`udpWorkbench.${key}`), `${key} is not restricted`);
    }
    // Every setting that shapes what a server or a send does, or what the log shows, is restricted.
    const ours = Object.keys(extension.packageJSON.contributes.configuration.properties as Record<string, unknown>);
    const unrestricted = ours.filter(
      (key) => /^udpWorkbench\.(server|simulation|send|log|proxy|capture)\./.test(key) && !untrusted.restrictedConfigurations.includes(key),
    );
    assert.deepEqual(unrestricted, [], 'settings a folder could still set');
    await getApi();
    assert.equal(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    for (const command of ['udpWorkbench.startServer', 'udpWorkbench.sendSelection', 'udpWorkbench.showLog']) {
      assert.ok(commands.includes(command), command);
    }
  });

  it('ignores the folder’s server, simulation, send and log settings: VS Code returns the defaults', () => {
    const config = vscode.workspace.getConfiguration('udpWorkbench');
    for (const [key, { folder, default: fallback }] of Object.entries(RESTRICTED)) {
      const inspected = config.inspect(key);
      console.log(
        `      ${key}: get() ${JSON.stringify(config.get(key))}, inspect().workspaceValue ${JSON.stringify(inspected?.workspaceValue)}`,
      );
      assert.equal(config.get(key), fallback, `${key} should be the default, not the folder's ${JSON.stringify(folder)}`);
      assert.notEqual(inspected?.workspaceValue, folder, `${key}: the folder's value is visible to the extension`);
    }
  });

  it('starts no server at startup, and leaves the folder’s port free', async () => {
    const internals = await getInternals();
    // activate() decides at once: a start it began would be here, still binding or waiting for a confirmation.
    assert.equal(internals.autoStart, undefined, 'activate() began a server start from the folder’s settings');
    assert.deepEqual(internals.workbench.runningServers, []);
    assert.ok(!internals.logLines().some((line) => line.includes('echo server listening')), internals.logLines().join('\n'));
    assert.equal(await canBind(RESTRICTED['server.port'].folder, '127.0.0.1'), true, 'something holds the folder’s port');
  });

  it('starts a server the user asks for with the default replies and no simulation, not the folder’s', async () => {
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    try {
      assert.ok(server, 'the server did not start');
      assert.equal(server.replyMode, 'mirror');
      assert.deepEqual(server.simulation, { seed: 1, dropInbound: 0, dropOutbound: 0, delayMs: 0, jitterMs: 0, duplicate: 0, reorder: 0 });
      // And it answers at once, with the same bytes: no 100 % loss, no minute of delay, no duplicate, no hex.
      const socket = dgram.createSocket('udp4');
      try {
        const replies: string[] = [];
        socket.on('message', (message) => replies.push(message.toString('utf8')));
        await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
        socket.send('untrusted?', server.port, '127.0.0.1');
        await waitFor('the reply', () => replies.length > 0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        assert.deepEqual(replies, ['untrusted?']);
      } finally {
        socket.close();
      }
    } finally {
      await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    }
  });

  it('sends the selection to the default target 127.0.0.1:12345, not to the folder’s', async function () {
    this.timeout(30_000);
    // Run trusted by mistake, this would send to the folder's 192.0.2.1: stop before anything is sent.
    assert.equal(vscode.workspace.isTrusted, false);
    assert.equal(vscode.workspace.getConfiguration('udpWorkbench').get('send.target'), RESTRICTED['send.target'].default);
    const internals = await getInternals();
    const targets: string[] = [];
    const subscription = internals.workbench.events.subscribe((event: WorkbenchEvent) => {
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
