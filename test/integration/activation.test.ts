import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';
import { TEST_INTERNALS_COMMAND } from '../../src/vscode/testInternals';
import { EXTENSION_ID, getApi } from './helpers';

describe('Activation in a real extension host', () => {
  it('runs in a Node extension host, where dgram sockets exist', () => {
    assert.equal(typeof process.versions.node, 'string');
    assert.equal(typeof dgram.createSocket, 'function');
    console.log(`  extension host: node ${process.version}, VS Code ${vscode.version}, ${vscode.env.appHost}`);
  });

  it('is installed, activates, and registers its commands', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded in this host`);
    await extension.activate();
    assert.equal(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('udpWorkbench.showLog'), 'udpWorkbench.showLog is not registered');
  });
});

describe('The API activate returns', () => {
  it('offers what another extension needs and nothing that exists for tests', async () => {
    const api = await getApi();
    assert.deepEqual(Object.keys(api).sort(), ['send', 'servers', 'startServer', 'stopAllServers', 'stopServer', 'subscribe']);
    const contributed = (
      vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as { contributes: { commands: Array<{ command: string }> } }
    ).contributes.commands;
    assert.ok(!contributed.some(({ command }) => command === TEST_INTERNALS_COMMAND), `${TEST_INTERNALS_COMMAND} must not be contributed`);
  });

  it('starts a server, lists it, sends to it, reports its events, and stops it', async () => {
    const api = await getApi();
    const server = await api.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror' });
    assert.ok(server, 'the server did not start');
    const received: string[] = [];
    const subscription = api.subscribe((event) => {
      if (event.kind === 'received' && event.serverId === server.id) received.push(event.payload.toString('utf8'));
    });
    try {
      assert.ok(api.servers().some(({ id }) => id === server.id));
      const sent = await api.send({ target: `127.0.0.1:${server.port}`, payload: 'ping from another extension', encoding: 'utf8' });
      assert.equal(sent.outcome, 'reply');
      assert.equal(Buffer.from(sent.reply ?? []).toString('utf8'), 'ping from another extension');
      assert.deepEqual(received, ['ping from another extension']);
      await assert.rejects(
        api.send({ target: 'not a target', payload: 'x' }),
        (error: Error & { code?: string }) => typeof error.code === 'string',
      );
    } finally {
      subscription.dispose();
      assert.equal(await api.stopServer(server.id), true);
    }
    assert.ok(!api.servers().some(({ id }) => id === server.id));
  });
});
