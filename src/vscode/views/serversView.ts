import * as vscode from 'vscode';
import { formatEndpoint, sendTargetFor } from '../../core/endpoint';
import type { EchoServer } from '../../core/server/echoServer';
import type { ImpairmentProxy } from '../../core/impairment/impairmentProxy';
import { describeListening } from '../../core/net/groupMembership';
import { describeReply } from '../../core/log/serverConfigText';
import { describeLink, describeSimulation } from '../../core/impairment/simulationSpec';
import { formatCount } from '../../core/stats';
import { countSessions } from '../counts';
import type { Workbench } from '../../core/workbench/workbench';
import type { Command } from '../commandRegistry';
import { describeRemoteListening, type HostPlace } from '../remoteWindow';
import { isServerListChange } from './viewEvents';
import { BatchedTreeProvider } from './refresh';

export const SERVERS_VIEW_ID = 'udpWorkbench.servers';

/** A running server or proxy, by id: the tree item is drawn from the live object each time. */
export interface ServerNode {
  readonly kind: 'server' | 'proxy';
  readonly id: string;
}

/**
 * The Servers view: one item per running echo server and proxy, its counts a few times a second. The menus'
 * commands get the node and act on that one server or proxy.
 */
export class ServersView extends BatchedTreeProvider<ServerNode> {
  private listing: boolean | undefined;
  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.views.stop', execute: (node: Partial<ServerNode>) => this.stop(node) },
    {
      id: 'udpWorkbench.views.configureSimulation',
      execute: (node: Partial<ServerNode> & { spec?: string }) => this.configureSimulation(node),
    },
    { id: 'udpWorkbench.views.stopAll', execute: () => this.stopAll() },
    { id: 'udpWorkbench.views.copyAddress', execute: (node: Partial<ServerNode>) => this.copyAddress(node) },
    { id: 'udpWorkbench.views.sendTo', execute: (node: Partial<ServerNode>) => this.sendTo(node) },
  ];

  constructor(
    private readonly workbench: Workbench,
    private readonly place: HostPlace,
  ) {
    super();
    this._register(vscode.window.registerTreeDataProvider(SERVERS_VIEW_ID, this));
    this._register(
      workbench.events.subscribe((event) => {
        if (isServerListChange(event)) this.refresh();
        else this.scheduleRefresh();
      }),
    );
  }

  getChildren(node?: ServerNode): ServerNode[] {
    if (node) return [];
    const nodes = [
      ...this.workbench.runningServers.map((server) => ({ kind: 'server' as const, id: server.id })),
      ...this.workbench.runningProxies.map((proxy) => ({ kind: 'proxy' as const, id: proxy.id })),
    ];
    this.setListing(nodes.length > 0);
    return nodes;
  }

  /** The title bar's Stop All shows only while the view lists something to stop. */
  private setListing(listing: boolean): void {
    if (listing === this.listing) return;
    this.listing = listing;
    void vscode.commands.executeCommand('setContext', 'udpWorkbench.serversListed', listing);
  }

  getTreeItem(node: ServerNode): vscode.TreeItem {
    const server = node.kind === 'server' ? this.workbench.server(node.id) : undefined;
    const proxy = node.kind === 'proxy' ? this.workbench.proxy(node.id) : undefined;
    if (server) return this.serverItem(server);
    if (proxy) return this.proxyItem(proxy);
    // Stopped between the list and the drawing: the refresh that follows removes it.
    return new vscode.TreeItem(vscode.l10n.t('{0} (stopped)', node.id));
  }

  private serverItem(server: EchoServer): vscode.TreeItem {
    const c = server.counters;
    // A group listener by its group, as the status bar names it: its wildcard bind says little.
    const item = new vscode.TreeItem(describeListening(server));
    item.id = `server:${server.id}`;
    item.contextValue = 'server';
    // The counts first: a narrow side bar cuts the end of the row, and the tooltip says the rest in full.
    item.description = `↓${formatCount(c.received)} ↑${formatCount(c.replies)} ✗${formatCount(c.dropped)} · ${server.replyMode} · ${describeSimulation(server.simulation)}`;
    item.iconPath = server.exposed
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon('radio-tower');
    const lines = [
      `**${vscode.l10n.t('Echo server {0}', formatEndpoint(server.local))}** (${server.id})`,
      '',
      vscode.l10n.t(
        '{0} received, {1} replies sent, {2} dropped, {3} rate-limited',
        formatCount(c.received),
        formatCount(c.replies),
        formatCount(c.dropped),
        formatCount(c.rateLimited),
      ),
      '',
      vscode.l10n.t('Replies: {0}', describeReply(server.replyMode, server.template)),
      '',
      vscode.l10n.t('Simulation: {0}', describeSimulation(server.simulation)),
    ];
    item.tooltip = this.tooltip(lines, server.local, server.exposed);
    return item;
  }

  private proxyItem(proxy: ImpairmentProxy): vscode.TreeItem {
    const { toServer, toClient } = proxy.counters;
    const item = new vscode.TreeItem(`${formatEndpoint(proxy.local)} → ${formatEndpoint(proxy.upstream)}`);
    item.id = `proxy:${proxy.id}`;
    item.contextValue = 'proxy';
    item.description = vscode.l10n.t(
      '→{0} ←{1} ✗{2} · proxy · {3}',
      formatCount(toServer.forwarded),
      formatCount(toClient.forwarded),
      formatCount(toServer.dropped + toClient.dropped),
      countSessions(proxy.sessionCount),
    );
    item.iconPath = proxy.exposed
      ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'))
      : new vscode.ThemeIcon('arrow-swap');
    const way = (counts: typeof toServer): string =>
      vscode.l10n.t(
        '{0} received, {1} forwarded, {2} dropped',
        formatCount(counts.received),
        formatCount(counts.forwarded),
        formatCount(counts.dropped),
      );
    const lines = [
      `**${vscode.l10n.t('Impairment proxy {0} → {1}', formatEndpoint(proxy.local), formatEndpoint(proxy.upstream))}** (${proxy.id})`,
      '',
      vscode.l10n.t('Client → server: {0}; {1}', way(toServer), describeLink(proxy.links.toServer)),
      '',
      vscode.l10n.t('Server → client: {0}; {1}', way(toClient), describeLink(proxy.links.toClient)),
    ];
    item.tooltip = this.tooltip(lines, proxy.local, proxy.exposed);
    return item;
  }

  private tooltip(lines: string[], local: EchoServer['local'], exposed: boolean): vscode.MarkdownString {
    const remote = describeRemoteListening(this.place, local);
    if (remote) lines.push('', `$(remote) ${remote}`);
    if (exposed) lines.push('', `$(warning) ${vscode.l10n.t('Bound to an address other machines can reach.')}`);
    return new vscode.MarkdownString(lines.join('\n'), true);
  }

  private async stop(node: Partial<ServerNode>): Promise<boolean> {
    if (node.id === undefined) return false;
    return node.kind === 'proxy' ? this.workbench.stopProxy(node.id) : this.workbench.stopServer(node.id);
  }

  /** Every server and every proxy the view lists; resolves to how many were stopped. */
  private async stopAll(): Promise<number> {
    const proxies = this.workbench.runningProxies.map((proxy) => this.workbench.stopProxy(proxy.id));
    const [servers] = await Promise.all([this.workbench.stopAllServers(), ...proxies]);
    return servers + proxies.length;
  }

  /** Asks for the simulation unless `spec` says it ("loss=10%"): the menu passes only the node. */
  private configureSimulation({ kind, id, spec }: Partial<ServerNode> & { spec?: string }): Thenable<unknown> {
    return vscode.commands.executeCommand(
      'udpWorkbench.configureSimulation',
      kind === 'proxy' ? { proxyId: id, spec } : { serverId: id, spec },
    );
  }

  /** What to send to, from this machine, to reach the server or proxy. */
  private targetOf(node: Partial<ServerNode>): string | undefined {
    const running =
      node.id === undefined ? undefined : node.kind === 'proxy' ? this.workbench.proxy(node.id) : this.workbench.server(node.id);
    return running && sendTargetFor(running.local);
  }

  private async copyAddress(node: Partial<ServerNode>): Promise<string | undefined> {
    const target = this.targetOf(node);
    if (target === undefined) return undefined;
    await vscode.env.clipboard.writeText(target);
    vscode.window.setStatusBarMessage(`$(copy) ${vscode.l10n.t('Copied {0}', target)}`, 3000);
    return target;
  }

  private sendTo(node: Partial<ServerNode>): Thenable<unknown> {
    return vscode.commands.executeCommand('udpWorkbench.sendSelectionTo', { target: this.targetOf(node) });
  }
}
