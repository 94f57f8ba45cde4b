// Group listeners and sends to groups through the commands, on this machine only: every group is joined on the
// loopback interface and every send leaves by it with a TTL of 0, so no datagram reaches a network.
import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { BlockResult } from '../../src/core/requests/requestRun';
import type { SendSelectionResult } from '../../src/vscode/sendCommands';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import { closeEditors, editorWith, getInternals, logMark, logSince, waitFor, withSettings } from './helpers';

const ON_THIS_MACHINE = { 'send.multicastInterface': 'lo', 'send.multicastTtl': 0, 'send.multicastLoopback': true };

/**
 * A plain program in the group beside ours: it answers "plain" to whatever it hears, from a socket of its own as SSDP
 * devices do (on one machine, two members replying from the group's port could not be told apart).
 */
async function plainMember(group: string, port: number): Promise<{ close(): void }> {
  const member = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const replies = dgram.createSocket('udp4');
  member.on('message', (_, from) => replies.send('plain', from.port, from.address));
  await new Promise<void>((resolve) => member.bind(port, '0.0.0.0', resolve));
  member.addMembership(group, '127.0.0.1');
  return { close: () => [member, replies].forEach((socket) => socket.close()) };
}

/**
 * The IPv4 groups `device` is a member of, as Linux lists them in /proc/net/igmp: a device's line, then one line per
 * group with the address as a 32-bit word in the kernel's (little-endian) byte order, "0101" + "4DEF" for 239.77.1.1.
 */
function groupsJoinedOn(device: string): string[] {
  const groups: string[] = [];
  let current = '';
  for (const line of readFileSync('/proc/net/igmp', 'utf8').split('\n').slice(1)) {
    const deviceLine = /^\d+\s+(\S+)\s*:/.exec(line);
    if (deviceLine) current = deviceLine[1];
    const group = /^\s+([0-9A-F]{8})\s/.exec(line);
    if (group && current === device) groups.push(Buffer.from(group[1], 'hex').reverse().join('.'));
  }
  return groups;
}

async function freePort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(resolve));
  return port;
}

describe('Multicast and broadcast', () => {
  let member: { close(): void } | undefined;

  afterEach(async () => {
    member?.close();
    member = undefined;
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    await closeEditors();
  });

  it('joins a group from the Join Multicast Group command and says so in the log and the status bar; leaves on stop', async () => {
    const internals = await getInternals();
    const port = await freePort();
    const mark = logMark(internals);
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.joinGroup', {
      group: `239.77.1.1:${port} on lo`,
      confirmExposed: true,
    });
    assert.ok(server, 'the group listener did not start');
    assert.deepEqual([server.address, server.port, server.replyMode, server.groups], ['0.0.0.0', port, 'none', ['239.77.1.1 on lo']]);
    const status = internals.statusBar();
    assert.match(status.text, new RegExp(`239\\.77\\.1\\.1:${port}`));
    assert.match(status.tooltip, /groups 239\.77\.1\.1 on lo/);
    const item = internals.views.servers.getTreeItem({ kind: 'server', id: server.id });
    assert.equal(item.label, `239.77.1.1:${port}`, 'the UDP view names the group, not the wildcard it binds');
    assert.ok(groupsJoinedOn('lo').includes('239.77.1.1'), 'the system does not list the membership on lo');
    await vscode.commands.executeCommand('udpWorkbench.stopServer', server.id);
    // The system's own list, not our log, says the membership is gone.
    await waitFor('lo to leave 239.77.1.1', () => !groupsJoinedOn('lo').includes('239.77.1.1'));
    const lines = await waitFor('the start and the stop in the log', () => {
      const found = logSince(internals, mark);
      return found.some((line) => line.includes('left group 239.77.1.1 on lo')) && found;
    });
    assert.ok(
      lines.some((line) => line.includes(`listening on 0.0.0.0:${port}, joined group 239.77.1.1 on lo`)),
      lines.join('\n'),
    );
  });

  it('Send Selection to a group counts every member that answers, ours and another program', async () => {
    const internals = await getInternals();
    const port = await freePort();
    await vscode.commands.executeCommand('udpWorkbench.startServer', {
      host: '239.77.1.2',
      port,
      interface: 'lo',
      replyMode: 'mirror',
      confirmExposed: true,
    });
    member = await plainMember('239.77.1.2', port);
    await editorWith('who is there?', [[0, 0, 0, 0]]);
    const mark = logMark(internals);
    const result = await withSettings(ON_THIS_MACHINE, () =>
      vscode.commands.executeCommand<SendSelectionResult | undefined>('udpWorkbench.sendSelection', { target: `239.77.1.2:${port}` }),
    );
    const [datagram] = result?.datagrams ?? [];
    assert.equal(datagram?.peers, 2, JSON.stringify(result));
    assert.deepEqual(datagram.replies?.map((reply) => reply.reply).sort(), ['plain', 'who is there?']);
    const lines = await waitFor('the count in the log', () => {
      const found = logSince(internals, mark);
      return found.some((line) => line.startsWith(`2 peers answered 239.77.1.2:${port} within`)) && found;
    });
    assert.ok(lines.filter((line) => line.startsWith('reply from 127.0.0.1:')).length === 2, lines.join('\n'));
  });

  it('a .udp block to a group reports the peers that answered in its result', async () => {
    const port = await freePort();
    await vscode.commands.executeCommand('udpWorkbench.joinGroup', {
      group: `239.77.1.3:${port}`,
      interface: 'lo',
      replyMode: 'mirror',
      confirmExposed: true,
    });
    member = await plainMember('239.77.1.3', port);
    const document = await vscode.workspace.openTextDocument({
      language: 'udp',
      content: `### discover\n@target 239.77.1.3:${port}\n@interface lo\n@ttl 0\n@timeout 500\nM-SEARCH * HTTP/1.1\n`,
    });
    await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock', { uri: document.uri.toString(), line: 0 });
    assert.equal(result?.outcome, 'passed', JSON.stringify(result));
    assert.equal(result.peers, 2);
    assert.match(result.summary, /^✓ 2 peers answered · \S+ m?s, \S+ m?s$/);
  });

  it('refuses a broadcast address until broadcast is allowed, saying how to allow it', async () => {
    const internals = await getInternals();
    await editorWith('anyone?', [[0, 0, 0, 0]]);
    const mark = logMark(internals);
    const result = await vscode.commands.executeCommand('udpWorkbench.sendSelection', { target: '255.255.255.255:9' });
    assert.equal(result, undefined);
    const lines = await waitFor('the refusal in the log', () => {
      const found = logSince(internals, mark);
      return found.some((line) => line.includes('is a broadcast address')) && found;
    });
    assert.ok(
      lines.some((line) => line.includes('@broadcast on') && line.includes('udpWorkbench.send.allowBroadcast')),
      lines.join('\n'),
    );
  });

  it("sends a .udp block with @broadcast on to loopback's broadcast address 127.255.255.255, and an echo server answers", async () => {
    const port = await freePort();
    // On the wildcard address, which broadcasts reach; the datagram itself stays on loopback.
    const server = await vscode.commands.executeCommand<ServerInfo>('udpWorkbench.startServer', {
      host: '0.0.0.0',
      port,
      replyMode: 'mirror',
      confirmExposed: true,
    });
    assert.ok(server, 'the echo server did not start');
    const document = await vscode.workspace.openTextDocument({
      language: 'udp',
      content: `### everyone on lo\n@target 127.255.255.255:${port}\n@broadcast on\n@timeout 500\nanyone on lo?\n`,
    });
    await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock', { uri: document.uri.toString(), line: 0 });
    assert.equal(result?.outcome, 'passed', JSON.stringify(result));
    assert.equal(result.peers, 1);
    assert.deepEqual(
      result.replies?.map(({ from, reply }) => [from, reply]),
      [[`127.0.0.1:${port}`, 'anyone on lo?']],
    );
  });

  it('names an interface that does not exist when joining on it', async () => {
    const internals = await getInternals();
    const port = await freePort();
    const mark = logMark(internals);
    const server = await vscode.commands.executeCommand('udpWorkbench.joinGroup', {
      group: `239.77.1.4:${port} on nope0`,
      confirmExposed: true,
    });
    assert.equal(server, undefined);
    const lines = await waitFor('the error in the log', () => {
      const found = logSince(internals, mark);
      return found.some((line) => line.includes('no network interface "nope0"')) && found;
    });
    assert.ok(
      lines.some((line) => /Name one it has \(.*lo 127\.0\.0\.1/.test(line)),
      lines.join('\n'),
    );
  });
});
