import * as vscode from 'vscode';
import { formatEndpoint } from '../core/endpoint';
import type { EchoServer } from '../core/server/echoServer';
import { describeListening, describeMembership } from '../core/net/groupMembership';
import { describeProtection, describeReply } from '../core/log/serverConfigText';
import { describeLink, describeSimulation } from '../core/impairment/simulationSpec';
import { formatCount, formatMs } from '../core/stats';
import type { Workbench } from '../core/workbench/workbench';
import { Coalescer } from '../core/timing';
import { countProxies, countServers, countSessions } from './counts';
import { Disposable, toDisposable } from './dispose';
import { describeRemoteWindow, type HostPlace } from './remoteWindow';

/** Redraws at most this often, so a flood costs a few status bar updates a second. */
const REFRESH_MS = 250;

/** Every count is of datagrams through the workbench's own sockets, so ↓ received = ↑ sent on + ✗ dropped + in flight. */
export interface StatusTotals {
  readonly servers: number;
  /** Into servers and proxies (either way), and replies to sends. */
  readonly received: number;
  /** Servers' replies, proxies' forwarded copies, and sends: duplicates count as the datagrams they are. */
  readonly sent: number;
  /** Simulated and protective drops by servers and proxies. */
  readonly dropped: number;
  /** Dropped by the system before a server read them; undefined where the system does not say. */
  readonly kernelDropped: number | undefined;
  /** Sends' attempts that got no reply in time, and sends that gave up after their last retry. */
  readonly timeouts: number;
  readonly gaveUp: number;
}

/**
 * Server state and live counts: ↓ received, ↑ sent, ✗ dropped — summed over the servers, the proxies and the
 * sending side — then, once there are any, what the system dropped and the sends that timed out.
 * A click opens the quick menu.
 */
export class StatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('udpWorkbench.status', vscode.StatusBarAlignment.Left, 50));
  private readonly refreshLater = new Coalescer(() => this.refresh(), REFRESH_MS);

  /** `sendTarget` says where Send Selection goes without being told; `place`, where the sockets are. */
  constructor(
    private readonly workbench: Workbench,
    private readonly sendTarget: () => string,
    private readonly place: HostPlace,
  ) {
    super();
    this._register(toDisposable(() => this.refreshLater.cancel()));
    this.item.name = vscode.l10n.t('UDP Workbench');
    this.item.command = 'udpWorkbench.showMenu';
    // A server's new settings are shown at once; datagrams are counted a few times a second.
    this._register(workbench.events.subscribe((event) => (event.kind === 'server-configured' ? this.refresh() : this.scheduleRefresh())));
    this.refresh();
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  get tooltip(): string {
    const tooltip = this.item.tooltip;
    return typeof tooltip === 'string' ? tooltip : (tooltip?.value ?? '');
  }

  /** Since the window opened, stopped servers and proxies included. */
  totals(): StatusTotals {
    const { server, client, proxy } = this.workbench.totals;
    return {
      servers: this.workbench.runningServers.length,
      received: server.received + proxy.received + client.replies,
      sent: server.replies + proxy.forwarded + client.sent,
      dropped: server.dropped + proxy.dropped,
      kernelDropped: server.kernelDropped,
      timeouts: client.timeouts,
      gaveUp: client.gaveUp,
    };
  }

  /** Redraws now. */
  refresh(): void {
    this.refreshLater.cancel();
    const servers = this.workbench.runningServers;
    const totals = this.totals();
    const { received, sent, dropped } = totals;
    const exposed = servers.some((server) => server.exposed);
    const proxies = this.workbench.runningProxies.length;
    const state =
      proxies > 0
        ? `$(arrow-swap) ${servers.length > 0 ? `${servers.length} + ` : ''}${countProxies(proxies)}`
        : servers.length === 0
          ? '$(circle-slash) UDP'
          : servers.length === 1
            ? `$(radio-tower) ${describeListening(servers[0])}`
            : `$(radio-tower) ${countServers(servers.length)}`;
    this.item.text = `${exposed ? '$(warning) ' : ''}${state}  ↓${formatCount(received)} ↑${formatCount(sent)} ✗${formatCount(dropped)}${describeLoss(totals)}`;
    this.item.backgroundColor = exposed ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.tooltip = this.describe(exposed, totals);
  }

  private scheduleRefresh(): void {
    this.refreshLater.request();
  }

  private describe(exposed: boolean, totals: StatusTotals): vscode.MarkdownString {
    const lines: string[] = [`**${vscode.l10n.t('UDP Workbench')}**`, ''];
    const servers = this.workbench.runningServers;
    const reachable = (exposedOne: boolean): string => (exposedOne ? vscode.l10n.t(', **reachable from other machines**') : '');
    if (servers.length === 0) lines.push(vscode.l10n.t('No echo server is running.'));
    for (const server of servers) {
      const c = server.counters;
      lines.push(
        vscode.l10n.t(
          '- `{0}` ({1}, {2}{3}): {4} received, {5} replies sent, {6} dropped, {7} rate-limited, {8}',
          formatEndpoint(server.local),
          server.id,
          server.replyMode,
          `${describeGroups(server)}${reachable(server.exposed)}`,
          formatCount(c.received),
          formatCount(c.replies),
          formatCount(c.dropped),
          formatCount(c.rateLimited),
          describeKernelDrops(this.workbench.kernelDroppedBy(server.id)),
        ),
        `  ${codeSpan(
          vscode.l10n.t(
            'replies: {0}; simulation: {1}; {2}',
            describeReply(server.replyMode, server.template),
            describeSimulation(server.simulation),
            describeProtection(server.protection),
          ),
        )}`,
      );
    }
    for (const proxy of this.workbench.runningProxies) {
      const { toServer, toClient } = proxy.counters;
      const way = (c: typeof toServer): string =>
        vscode.l10n.t(
          '{0} received, {1} forwarded, {2} dropped',
          formatCount(c.received),
          formatCount(c.forwarded),
          formatCount(c.dropped),
        );
      lines.push(
        vscode.l10n.t(
          '- proxy `{0}` → `{1}` ({2}{3}, {4}): client → server {5}; server → client {6}',
          formatEndpoint(proxy.local),
          formatEndpoint(proxy.upstream),
          proxy.id,
          reachable(proxy.exposed),
          countSessions(proxy.sessionCount),
          way(toServer),
          way(toClient),
        ),
        `  ${codeSpan(vscode.l10n.t('client → server: {0}; server → client: {1}', describeLink(proxy.links.toServer), describeLink(proxy.links.toClient)))}`,
      );
    }
    const { client } = this.workbench.totals;
    const rtt = this.workbench.roundTrips;
    lines.push(
      '',
      vscode.l10n.t(
        'Sent {0}, replies {1}, timeouts {2} ({3} gave up after their last try), failures {4}',
        formatCount(client.sent),
        formatCount(client.replies),
        formatCount(client.timeouts),
        formatCount(client.gaveUp),
        formatCount(client.failures),
      ),
    );
    const { count, p50, p99, min, max } = rtt.summary();
    if (count > 0 && p50 !== undefined && p99 !== undefined && min !== undefined && max !== undefined) {
      lines.push(
        vscode.l10n.t(
          'Round trip over {0}: p50 {1}, p99 {2}, min {3}, max {4}',
          formatCount(count),
          formatMs(p50),
          formatMs(p99),
          formatMs(min),
          formatMs(max),
        ),
      );
    }
    lines.push(
      '',
      vscode.l10n.t(
        '↓ {0} received (by servers and proxies, and replies to sends) · ↑ {1} sent (replies, forwarded copies and sends) · ✗ {2} dropped on purpose (simulation and protection), since the window opened.',
        formatCount(totals.received),
        formatCount(totals.sent),
        formatCount(totals.dropped),
      ),
      '',
      vscode.l10n.t('Send Selection sends to `{0}`; Send Selection To… picks another.', this.sendTarget()),
    );
    if (exposed) lines.push('', vscode.l10n.t('$(warning) A server is bound to an address other machines can reach.'));
    const remote = describeRemoteWindow(this.place);
    if (remote) lines.push('', `$(remote) ${remote}`);
    lines.push('', vscode.l10n.t('Click for the UDP menu.'));
    const markdown = new vscode.MarkdownString(lines.join('\n'), true);
    return markdown;
  }
}

/** ", groups 239.1.2.3 on lo, ff02::1234%lo" for a group listener. */
function describeGroups(server: EchoServer): string {
  return server.groups.length > 0 ? `, ${vscode.l10n.t('groups {0}', server.groups.map(describeMembership).join(', '))}` : '';
}

/** Text shown as it is in Markdown: a code span fenced by more backticks than it contains. */
function codeSpan(text: string): string {
  const fence = '`'.repeat(Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length)) + 1);
  return `${fence} ${text} ${fence}`;
}

/** ` · 120 dropped by the system · ⏱2 timed out, 1 gave up`, each part only once it is not 0. */
function describeLoss({ kernelDropped, timeouts, gaveUp }: StatusTotals): string {
  const parts = [
    kernelDropped ? vscode.l10n.t('{0} dropped by the system', formatCount(kernelDropped)) : '',
    timeouts === 0
      ? ''
      : gaveUp > 0
        ? vscode.l10n.t('⏱{0} timed out, {1} gave up', formatCount(timeouts), formatCount(gaveUp))
        : vscode.l10n.t('⏱{0} timed out', formatCount(timeouts)),
  ].filter(Boolean);
  return parts.map((part) => ` · ${part}`).join('');
}

function describeKernelDrops(count: number | undefined): string {
  return count === undefined
    ? vscode.l10n.t('drops by the system not available on this system')
    : vscode.l10n.t('{0} dropped by the system (receive buffer full)', formatCount(count));
}
