// Runs only in a folder VS Code does not trust (see index.ts beside this file): a `.udp` file there asks before its
// first send off this machine (a multicast group and a broadcast address always are) and before a burst of more than
// 1,000 datagrams, and its Send lens says where and how many.
// A modal cannot be answered from here (the test host refuses to show one), so most sends below are cancelled before
// they start: a send that needs the user's word then says "not confirmed", one that does not says "cancelled", and
// neither sends anything, even if the check were wrong.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { BlockResult } from '../../../src/core/requests/requestRun';
import type { ServerInfo } from '../../../src/vscode/serverCommands';
import { closeEditors, getInternals, waitFor } from '../helpers';

const CONTENT = (port: number): string =>
  [
    '### far burst',
    '@target 10.0.0.5:53',
    '@repeat 1000000',
    'x',
    '### far single',
    '@target 10.0.0.5:53',
    'x',
    '### local large burst',
    `@target 127.0.0.1:${port}`,
    '@repeat 1001',
    'x',
    '### local burst',
    `@target 127.0.0.1:${port}`,
    '@repeat 1000',
    '@rate 2000/s',
    'x',
    '### default target',
    'x',
  ].join('\n');

/** The first line of each block in CONTENT. */
const LINE = { farBurst: 0, farSingle: 4, localLargeBurst: 7, localBurst: 11, defaultTarget: 16 };

function sendBlock(
  document: vscode.TextDocument,
  line: number,
  cancellation?: vscode.CancellationToken,
): Thenable<BlockResult | undefined> {
  return vscode.commands.executeCommand<BlockResult | undefined>('udpWorkbench.sendBlock', {
    uri: document.uri.toString(),
    line,
    cancellation,
  });
}

function cancelled(): vscode.CancellationToken {
  const source = new vscode.CancellationTokenSource();
  source.cancel();
  return source.token;
}

describe('.udp files in a folder VS Code does not trust', () => {
  let server: ServerInfo;
  let document: vscode.TextDocument;
  before(async () => {
    assert.equal(vscode.workspace.isTrusted, false, 'this suite must run with --workspace-trust in the untrusted fixture folder');
    const started = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', { host: '127.0.0.1', port: 0 });
    assert.ok(started, 'the echo server did not start');
    server = started;
    document = await vscode.workspace.openTextDocument({ language: 'udp', content: CONTENT(server.port) });
    await vscode.window.showTextDocument(document);
  });
  after(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  const received = async (): Promise<number> => (await getInternals()).workbench.server(server.id)?.counters.received ?? -1;

  it('says on each Send lens where it sends and how many', async () => {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', document.uri)) ?? [];
    assert.deepEqual(
      lenses.map((lens) => [lens.range.start.line, lens.command?.title]),
      [
        [LINE.farBurst, '$(send) Send 1,000,000 × to 10.0.0.5:53'],
        [LINE.farSingle, '$(send) Send to 10.0.0.5:53'],
        [LINE.localLargeBurst, `$(send) Send 1,001 × to 127.0.0.1:${server.port}`],
        [LINE.localBurst, `$(send) Send 1,000 × to 127.0.0.1:${server.port}`],
        // The folder's send.target (192.0.2.1:9) is ignored here.
        [LINE.defaultTarget, '$(send) Send to 127.0.0.1:12345'],
      ],
    );
  });

  it('asks before a send off this machine and before a burst of more than 1,000, and sends nothing unconfirmed', async () => {
    for (const line of [LINE.farBurst, LINE.farSingle, LINE.localLargeBurst]) {
      const result = await sendBlock(document, line, cancelled());
      assert.equal(result?.outcome, 'cancelled', JSON.stringify(result));
      assert.equal(result.summary, '⊘ not sent: not confirmed');
      assert.match(result.detail, /^not sent: in Restricted Mode, sending .* asks first, and it was not confirmed$/);
    }
    assert.match((await sendBlock(document, LINE.farBurst, cancelled()))?.detail ?? '', /sending 1,000,000 × to 10\.0\.0\.5:53 asks first/);
    // Without the need to ask, a cancelled send is only cancelled.
    assert.equal((await sendBlock(document, LINE.localBurst, cancelled()))?.summary, '⊘ cancelled');
    assert.equal(await received(), 0);
  });

  it('sends a burst of 1,000 to this machine without asking', async () => {
    const result = await sendBlock(document, LINE.localBurst);
    const burst = result?.burst;
    assert.ok(burst, JSON.stringify(result));
    assert.equal(burst.sent, 1000);
    assert.ok(result.outcome === 'passed' || result.outcome === 'measured', JSON.stringify(result));
    await waitFor('the burst at the server', async () => (await received()) >= burst.received);
  });

  it('sends nothing when the question goes unanswered', async () => {
    const before = await received();
    // The test host refuses to show modal dialogs: the question is asked, and not answered yes.
    const result = await sendBlock(document, LINE.localLargeBurst);
    assert.equal(result?.summary, '⊘ not sent: not confirmed', JSON.stringify(result));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await received(), before);
  });
});

describe('.udp blocks to groups and broadcast addresses in a folder VS Code does not trust', () => {
  after(async () => {
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  it('asks before sending to a group or a broadcast address, and sends nothing unconfirmed', async () => {
    const listener = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '239.77.2.1',
      port: 0,
      interface: 'lo',
      confirmExposed: true,
    });
    assert.ok(listener, 'the group listener did not start');
    const content = [
      '### group',
      `@target 239.77.2.1:${listener.port}`,
      '@interface lo',
      '@ttl 0',
      'hello group',
      '### broadcast',
      '@target 255.255.255.255:9',
      '@broadcast on',
      'hello everyone',
    ].join('\n');
    const document = await vscode.workspace.openTextDocument({ language: 'udp', content });
    await vscode.window.showTextDocument(document);
    for (const line of [0, 5]) {
      const result = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock', { uri: document.uri.toString(), line });
      assert.equal(result?.summary, '⊘ not sent: not confirmed', JSON.stringify(result));
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await getInternals()).workbench.server(listener.id)?.counters.received, 0);
  });
});
