import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import { hostname } from 'node:os';
import * as vscode from 'vscode';
import type { BlockResult } from '../../src/core/requests/requestRun';
import type { ProxyInfo } from '../../src/vscode/proxyCommands';
import type { RunAllResult } from '../../src/vscode/requestFiles/runner';
import type { SendSelectionResult } from '../../src/vscode/sendCommands';
import { describeRemoteListening, describeRemoteWindow, type HostPlace } from '../../src/vscode/remoteWindow';
import type { ServerInfo } from '../../src/vscode/serverCommands';
import type { RequestFileNode } from '../../src/vscode/views/requestFilesView';
import type { ServerNode } from '../../src/vscode/views/serversView';
import type { TargetNode } from '../../src/vscode/views/targetsView';
import { WALKTHROUGH_KEYS } from '../../src/vscode/views/viewEvents';
import { closeEditors, editorWith, EXTENSION_ID, getInternals, logMark, logSince, roundTrip, waitFor, withSettings } from './helpers';

async function startServer(host = '127.0.0.1', extra: object = {}): Promise<ServerInfo> {
  const server = await vscode.commands.executeCommand<ServerInfo | undefined>('udpWorkbench.startServer', { host, port: 0, ...extra });
  assert.ok(server, 'the echo server did not start');
  return server;
}

/** An unimpaired proxy on loopback in front of `server`. */
async function startProxyTo(server: ServerInfo): Promise<ProxyInfo> {
  const proxy = await vscode.commands.executeCommand<ProxyInfo | undefined>('udpWorkbench.startProxy', {
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${server.port}`,
    toServer: 'off',
    toClient: 'off',
  });
  assert.ok(proxy, 'the proxy did not start');
  return proxy;
}

const markdown = (tooltip: vscode.TreeItem['tooltip']): string => (typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? ''));
const label = (item: vscode.TreeItem): string => (typeof item.label === 'string' ? item.label : (item.label?.label ?? ''));

describe('The UDP view', () => {
  afterEach(async () => {
    const internals = await getInternals();
    await vscode.commands.executeCommand('udpWorkbench.stopAllServers');
    for (const proxy of internals.workbench.runningProxies) await internals.workbench.stopProxy(proxy.id);
    await closeEditors();
  });

  describe('Servers', () => {
    it('lists each running server with its address, reply mode, simulation and counts, and stops it from the item', async () => {
      const { views } = await getInternals();
      const server = await startServer('127.0.0.1', { replyMode: 'mirror', simulation: { delayMs: 5 } });
      const node = views.servers.getChildren().find((n) => n.id === server.id);
      assert.deepEqual(node, { kind: 'server', id: server.id });
      assert.equal(await roundTrip('127.0.0.1', server.port, 'counted'), 'counted');
      const item = await waitFor('the reply counted in the item', () => {
        const drawn = views.servers.getTreeItem(node);
        return String(drawn.description).includes('↓1 ↑1') && drawn;
      });
      assert.equal(label(item), `127.0.0.1:${server.port}`);
      assert.match(String(item.description), /^↓1 ↑1 ✗0 · mirror · .*5 ms/);
      assert.equal(item.contextValue, 'server');
      assert.equal((item.iconPath as vscode.ThemeIcon).id, 'radio-tower');
      assert.match(markdown(item.tooltip), /1 received, 1 replies sent, 0 dropped, 0 rate-limited/);

      assert.equal(await vscode.commands.executeCommand('udpWorkbench.views.stop', node), true);
      assert.equal(
        views.servers.getChildren().some((n) => n.id === server.id),
        false,
      );
    });

    it('marks a server other machines can reach with a warning icon', async () => {
      const { views } = await getInternals();
      const server = await startServer('0.0.0.0', { confirmExposed: true });
      const item = views.servers.getTreeItem({ kind: 'server', id: server.id });
      assert.equal((item.iconPath as vscode.ThemeIcon).id, 'warning');
      assert.match(markdown(item.tooltip), /other machines can reach/);
    });

    it('copies the address to send to, sends the selection there, and changes the simulation from the item', async () => {
      const { views, workbench } = await getInternals();
      const server = await startServer('0.0.0.0', { confirmExposed: true });
      const node: ServerNode = { kind: 'server', id: server.id };
      // Bound to every interface, it is reached on loopback from here.
      assert.equal(await vscode.commands.executeCommand('udpWorkbench.views.copyAddress', node), `127.0.0.1:${server.port}`);
      assert.equal(await vscode.env.clipboard.readText(), `127.0.0.1:${server.port}`);
      await editorWith('to the server', [[0, 0, 0, 0]]);
      const sent = await vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.views.sendTo', node);
      assert.equal(sent?.target, `127.0.0.1:${server.port}`);
      assert.equal(sent?.datagrams[0].reply, 'to the server');
      await vscode.commands.executeCommand('udpWorkbench.views.configureSimulation', { ...node, spec: 'loss=10%' });
      assert.equal(workbench.server(server.id)?.simulation.dropInbound, 0.1);
      assert.match(String(views.servers.getTreeItem(node).description), /10% lost in/);
    });

    it('lists a proxy with where it forwards, and stops it from the item', async () => {
      const { views, workbench } = await getInternals();
      const server = await startServer();
      const proxy = await startProxyTo(server);
      const node = views.servers.getChildren().find((n) => n.kind === 'proxy');
      assert.deepEqual(node, { kind: 'proxy', id: proxy.id });
      const item = views.servers.getTreeItem(node);
      assert.equal(label(item), `127.0.0.1:${proxy.port} → 127.0.0.1:${server.port}`);
      assert.equal(item.contextValue, 'proxy');
      assert.match(String(item.description), /^→0 ←0 ✗0 · proxy · 0 sessions$/);
      assert.equal(await vscode.commands.executeCommand('udpWorkbench.views.stop', node), true);
      assert.equal(workbench.runningProxies.length, 0);
    });

    it('stops every server and proxy with the title bar Stop All', async () => {
      const { workbench } = await getInternals();
      const server = await startServer();
      await startServer('::1');
      await startProxyTo(server);
      assert.equal(await vscode.commands.executeCommand('udpWorkbench.views.stopAll'), 3);
      assert.equal(workbench.runningServers.length + workbench.runningProxies.length, 0);
    });

    it('redraws a few times a second during a flood, not once per datagram', async () => {
      const { views } = await getInternals();
      const server = await startServer();
      const before = views.servers.refreshes;
      const started = Date.now();
      await Promise.all(Array.from({ length: 200 }, (_, i) => roundTrip('127.0.0.1', server.port, `flood ${i}`, 2000)));
      await new Promise((resolve) => setTimeout(resolve, 600));
      const refreshes = views.servers.refreshes - before;
      const allowed = Math.ceil((Date.now() - started) / 250) + 2;
      assert.ok(refreshes >= 1 && refreshes <= allowed, `${refreshes} refreshes for 200 datagrams (at most ${allowed} expected)`);
    });
  });

  describe('Targets', () => {
    it('lists the targets sent to, sends the selection there on a click, and pins, renames and removes them', async () => {
      const { views } = await getInternals();
      const server = await startServer();
      const target = `127.0.0.1:${server.port}`;
      await editorWith('first', [[0, 0, 0, 0]]);
      await vscode.commands.executeCommand('udpWorkbench.sendSelection', { target });
      const recent = await waitFor('the target listed', () => views.targets.getChildren().find((n) => n.target === target));
      assert.deepEqual(recent, { target, pinned: false, name: undefined });
      const item = views.targets.getTreeItem(recent);
      assert.equal(item.contextValue, 'target.recent');
      assert.equal(item.command?.command, 'udpWorkbench.sendSelection');
      assert.deepEqual(item.command?.arguments, [{ target }]);

      // The click: what the item's command runs.
      await editorWith('clicked', [[0, 0, 0, 0]]);
      const clicked = await vscode.commands.executeCommand<SendSelectionResult>(item.command.command, ...(item.command.arguments ?? []));
      assert.equal(clicked?.datagrams[0].reply, 'clicked');

      await vscode.commands.executeCommand('udpWorkbench.views.pinTarget', recent);
      await vscode.commands.executeCommand('udpWorkbench.views.renameTarget', { target, newName: 'test server' });
      const [pinned] = views.targets.getChildren();
      assert.deepEqual(pinned, { target, pinned: true, name: 'test server' });
      const pinnedItem = views.targets.getTreeItem(pinned);
      assert.equal(label(pinnedItem), 'test server');
      assert.equal(pinnedItem.description, target);
      assert.equal(pinnedItem.contextValue, 'target.pinned');

      await vscode.commands.executeCommand('udpWorkbench.views.unpinTarget', pinned);
      assert.equal(views.targets.getChildren().find((n: TargetNode) => n.target === target)?.pinned, false);
      await vscode.commands.executeCommand('udpWorkbench.views.removeTarget', { target });
      assert.equal(
        views.targets.getChildren().some((n) => n.target === target),
        false,
      );
    });
  });

  describe('Request files', () => {
    it("lists the workspace's .udp files and their blocks, and shows each block's last result", async () => {
      const { views } = await getInternals();
      const server = await startServer();
      const [folder] = vscode.workspace.workspaceFolders ?? [];
      assert.ok(folder, 'the integration tests run with the fixtures folder open');
      const file = vscode.Uri.joinPath(folder.uri, 'views-test.udp');
      await vscode.workspace.fs.writeFile(file, Buffer.from(`### first\n@target 127.0.0.1:${server.port}\nping\n\n### second\npong\n`));
      try {
        // A new file in the workspace is listed once the file watcher sees it.
        const node = await waitFor('the new file listed', async () =>
          (await views.requestFiles.getChildren()).find((n) => n.uri === file.toString()),
        );
        const files = await views.requestFiles.getChildren();
        assert.ok(
          files.some((n) => n.uri.endsWith('/runAll.udp')),
          files.map((n) => n.uri).join(', '),
        );
        assert.equal(views.requestFiles.getTreeItem(node).contextValue, 'requestFile');
        const [first, second] = await views.requestFiles.getChildren(node);
        assert.ok(first?.kind === 'block' && second?.kind === 'block');
        assert.deepEqual([first.name, first.line, second.name, second.line], ['first', 0, 'second', 4]);
        const unsent = views.requestFiles.getTreeItem(first);
        assert.equal(unsent.contextValue, 'requestBlock');
        assert.equal(unsent.description, undefined);

        // The inline Send action runs Send Block on the node, which carries its uri and line.
        const result = await vscode.commands.executeCommand<BlockResult>('udpWorkbench.sendBlock', first);
        assert.equal(result?.outcome, 'passed', result?.detail);
        const sent = await waitFor('the result in the tree', async () => {
          const [block] = await views.requestFiles.getChildren(node);
          return block?.kind === 'block' && block.result !== undefined && block;
        });
        const item = views.requestFiles.getTreeItem(sent);
        assert.equal(item.description, result.summary);
        assert.match(String(item.description), /^✓/);
        assert.equal((item.iconPath as vscode.ThemeIcon).id, 'pass');
      } finally {
        await vscode.workspace.fs.delete(file);
      }
    });

    it('runs every block of every listed file with the title bar Run All Request Files', async () => {
      const { views } = await getInternals();
      // Nothing listens where the settings send: every block without its own target is refused at once.
      const closed = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', resolve));
      const { port } = closed.address();
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const files = await views.requestFiles.getChildren();
      const runs = await withSettings({ 'send.target': `127.0.0.1:${port}`, 'send.retries': 0 }, () =>
        vscode.commands.executeCommand<RunAllResult[]>('udpWorkbench.views.runAllFiles'),
      );
      assert.deepEqual(
        runs.map((run) => run.uri),
        files.map((file) => file.uri),
      );
      const burst = files.find((n) => n.uri.endsWith('/burst.udp'));
      assert.ok(burst);
      const [block] = await waitFor('the burst result in the tree', async () => {
        const blocks = await views.requestFiles.getChildren(burst);
        return blocks.every((n) => n.kind === 'block' && n.result !== undefined) && blocks;
      });
      assert.ok(block.kind === 'block' && block.result);
      assert.equal(views.requestFiles.getTreeItem(block).description, block.result.summary);
    });

    it('reveals a block on a click', async () => {
      const { views } = await getInternals();
      const files = await views.requestFiles.getChildren();
      const problems = files.find((n) => n.uri.endsWith('/problems.udp'));
      assert.ok(problems);
      const blocks = (await views.requestFiles.getChildren(problems)) as Array<Extract<RequestFileNode, { kind: 'block' }>>;
      const fine = blocks.find((n) => n.name === 'fine');
      assert.ok(fine);
      const item = views.requestFiles.getTreeItem(fine);
      assert.equal(item.command?.command, 'udpWorkbench.views.revealBlock');
      await vscode.commands.executeCommand(item.command.command, ...(item.command.arguments ?? []));
      const editor = await waitFor(
        'the file shown',
        () => vscode.window.activeTextEditor?.document.uri.toString() === fine.uri && vscode.window.activeTextEditor,
      );
      assert.equal(editor.selection.active.line, fine.line);
      assert.match(editor.document.lineAt(fine.line).text, /^### fine/);
    });
  });

  describe('Get Started walkthrough', () => {
    // Earlier files in this extension host have started servers, sent and run blocks: each test starts from no step
    // done, and first checks that what must not complete its step does not.
    beforeEach(async () => (await getInternals()).views.walkthrough.startOver());

    it('names the context keys its steps complete on', () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      const steps = (extension?.packageJSON as { contributes: { walkthroughs: Array<{ steps: Array<{ completionEvents: string[] }> }> } })
        .contributes.walkthroughs[0].steps;
      assert.deepEqual(
        steps.map((step) => step.completionEvents),
        Object.values(WALKTHROUGH_KEYS).map((key) => [`onContext:${key}`]),
      );
    });

    it('completes "start a server" when one starts, and "send a line" when a reply comes back', async () => {
      const { views } = await getInternals();
      assert.deepEqual(views.walkthrough.completed, []);
      const server = await startServer();
      assert.deepEqual(views.walkthrough.completed, ['serverStarted']);
      // The second step's button: lines in an editor beside, sent to the running server.
      const sent = await vscode.commands.executeCommand<SendSelectionResult>('udpWorkbench.walkthrough.sendLines', {});
      assert.equal(sent?.target, `127.0.0.1:${server.port}`);
      assert.equal(sent?.datagrams[0].reply, 'hello, UDP');
      assert.deepEqual(views.walkthrough.completed, ['serverStarted', 'datagramAnswered']);
    });

    it('completes "simulate loss" when the simulation drops a datagram, not when one is answered or goes unanswered', async () => {
      const { views, workbench } = await getInternals();
      const server = await startServer();
      assert.equal(await roundTrip('127.0.0.1', server.port, 'answered'), 'answered');
      // A listen-only server answers nothing either, but nothing was dropped.
      const listener = await startServer('127.0.0.1', { replyMode: 'none' });
      assert.equal(await roundTrip('127.0.0.1', listener.port, 'unanswered', 200), undefined);
      await waitFor('the listener to count it', () => workbench.server(listener.id)?.counters.received === 1);
      assert.ok(!views.walkthrough.completed.includes('dropSeen'), `completed: ${views.walkthrough.completed.join(', ')}`);

      await vscode.commands.executeCommand('udpWorkbench.configureSimulation', { serverId: server.id, spec: 'loss=100%' });
      assert.equal(await roundTrip('127.0.0.1', server.port, 'lost', 200), undefined);
      await waitFor('the drop seen', () => views.walkthrough.completed.includes('dropSeen'));
      assert.equal(workbench.server(server.id)?.counters.dropped, 1);
    });

    it('completes "run a request file" when a block of a .udp file runs, not when one is only opened', async () => {
      const { views } = await getInternals();
      // Nothing listens on port 9 of loopback: the block fails, and it still ran.
      const document = await vscode.workspace.openTextDocument({
        language: 'udp',
        content: '### ping\n@target 127.0.0.1:9\n@timeout 100\n@retries 0\nping\n',
      });
      await vscode.window.showTextDocument(document);
      assert.deepEqual(views.walkthrough.completed, []);
      await vscode.commands.executeCommand('udpWorkbench.runAllBlocks', { uri: document.uri.toString() });
      assert.deepEqual(views.walkthrough.completed, ['blockRun']);
    });
  });

  describe('Remote windows', () => {
    const loopback = { address: '127.0.0.1', port: 12345, family: 'IPv4' as const };

    it('says, in this test host (code-server, a server VS Code opened in a browser), that the sockets are on its machine', async () => {
      const internals = await getInternals();
      const { place } = internals;
      // code-server names the window after the address the browser connected to, and runs the extension beside the files.
      assert.equal(place.remoteName, vscode.env.remoteName);
      assert.match(place.remoteName ?? '', /^127\.0\.0\.1:\d+$/);
      assert.equal(place.extensionKind, vscode.ExtensionKind.Workspace);
      assert.equal(place.hostname, hostname());
      const mark = logMark(internals);
      const server = await startServer();
      const expected =
        `listening on 127.0.0.1:${server.port} on ${hostname()}, the machine that serves this VS Code window (${place.remoteName}); ` +
        `only programs on ${hostname()} can reach it — VS Code does not forward UDP`;
      const lines = await waitFor('the note in the log', () => {
        const since = logSince(internals, mark);
        return since.some((line) => line.includes('does not forward UDP')) && since;
      });
      assert.ok(lines.includes(`[${server.id}] ${expected}`), lines.join('\n'));
      assert.ok(markdown(internals.views.servers.getTreeItem({ kind: 'server', id: server.id }).tooltip).includes(expected));
      assert.ok(
        internals
          .statusBar()
          .tooltip.includes(
            `Echo servers and proxies listen on ${hostname()}, the machine that serves this VS Code window (${place.remoteName}). ` +
              'VS Code does not forward UDP to the machine your browser runs on.',
          ),
        internals.statusBar().tooltip,
      );
    });

    it('names the SSH host, WSL, the container or the codespace, and says the laptop cannot reach a loopback server', () => {
      const remote = (remoteName: string | undefined, extensionKind = vscode.ExtensionKind.Workspace): HostPlace => ({
        remoteName,
        extensionKind,
        hostname: 'build-01',
      });
      const laptop = 'programs on your laptop cannot reach it — VS Code does not forward UDP';
      assert.equal(
        describeRemoteListening(remote('ssh-remote'), loopback),
        `listening on 127.0.0.1:12345 on the SSH host build-01; ${laptop}`,
      );
      assert.equal(describeRemoteListening(remote('wsl'), loopback), `listening on 127.0.0.1:12345 in WSL (build-01); ${laptop}`);
      assert.equal(
        describeRemoteListening(remote('dev-container'), loopback),
        `listening on 127.0.0.1:12345 in the container build-01; ${laptop}`,
      );
      assert.equal(
        describeRemoteListening(remote('codespaces'), { address: '0.0.0.0', port: 9, family: 'IPv4' }),
        'listening on 0.0.0.0:9 in the codespace build-01; other machines reach it only if the network routes UDP to build-01 — VS Code does not forward UDP',
      );
      assert.equal(
        describeRemoteWindow(remote('ssh-remote')),
        'This is a remote window: echo servers and proxies listen on the SSH host build-01, not on your laptop. VS Code does not forward UDP.',
      );
      // A local window, or an extension running on the window's side, has nothing to add.
      assert.equal(describeRemoteListening(remote(undefined), loopback), undefined);
      assert.equal(describeRemoteListening(remote('ssh-remote', vscode.ExtensionKind.UI), loopback), undefined);
      assert.equal(describeRemoteWindow(remote(undefined)), undefined);
    });
  });
});
