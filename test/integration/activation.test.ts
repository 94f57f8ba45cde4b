import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as vscode from 'vscode';

const EXTENSION_ID = 'udp-workbench.udp-workbench';

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
