import * as vscode from 'vscode';
import { formatEndpoint } from '../core/endpoint';
import type { EchoServer } from '../core/echoServer';
import { describeListening, describeMembership } from '../core/multicast';
import { describeProtection, describeReply } from '../core/serverConfigText';
import { describeLink, describeSimulation } from '../core/simulationSpec';
import { formatCount, formatMs } from '../core/stats';
import type { Workbench } from '../core/workbench';
import { Coalescer } from '../core/timing';
import { Disposable, toDisposable } from './dispose';

/** Redraws at most this often, so a flood costs a few status bar updates a second. */
const REFRESH_MS = 250;

export interface StatusTotals {
  readonly servers: number;
  readonly received: number;
  readonly sent: number;
  /** Simulated and protective drops by the servers. */
  readonly dropped: number;
  /** Dropped by the system before a server read them; undefined where the system does not say. */
  readonly kernelDropped: number | undefined;
  /** Sends' attempts that got no reply in time, and sends that gave up after their last retry. */
  readonly timeouts: number;
  readonly gaveUp: number;
}

/**
 * Server state and live counts: ↓ received, ↑ sent, ✗ dropped — summed over the servers and the
 * sending side — then, once there are any, what the system dropped and the sends that timed out.
 * A click opens the quick menu.
 */
export class StatusBar extends Disposable {
  private readonly item = this._register(vscode.window.createStatusBarItem('udpWorkbench.status', vscode.StatusBarAlignment.Left, 50));
  private readonly refreshLater = new Coalescer(() => this.refresh(), REFRESH_MS);

  /** `sendTarget` says where Send Selection goes without being told. */
  constructor(
    private readonly workbench: Workbench,
    private readonly sendTarget: () => string,
  ) {
    super();
    this._register(toDisposable(() => this.refreshLater.cancel()));
    this.item.name = 'UDP Workbench';
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

  /** ↓ received by servers and replies received by sends; ↑ replies sent by servers and datagrams sent. */
  totals(): StatusTotals {
    const { server, client, proxy } = this.workbench.totals;
    return {
      servers: this.workbench.runningServers.length,
      received: server.received + client.replies,
      sent: server.replies + client.sent,
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
        ? `$(arrow-swap) ${servers.length > 0 ? `${servers.length} + ` : ''}${proxies} ${proxies === 1 ? 'proxy' : 'proxies'}`
        : servers.length === 0
          ? '$(circle-slash) UDP'
          : servers.length === 1
            ? `$(radio-tower) ${describeListening(servers[0])}`
            : `$(radio-tower) ${servers.length} servers`;
    this.item.text = `${exposed ? '$(warning) ' : ''}${state}  ↓${formatCount(received)} ↑${formatCount(sent)} ✗${formatCount(dropped)}${describeLoss(totals)}`;
    this.item.backgroundColor = exposed ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.tooltip = this.describe(exposed);
  }

  private scheduleRefresh(): void {
    this.refreshLater.request();
  }

  private describe(exposed: boolean): vscode.MarkdownString {
    const lines: string[] = ['**UDP Workbench**', ''];
    const servers = this.workbench.runningServers;
    if (servers.length === 0) lines.push('No echo server is running.');
    for (const server of servers) {
      const c = server.counters;
      lines.push(
        `- \`${formatEndpoint(server.local)}\` (${server.id}, ${server.replyMode}${describeGroups(server)}${server.exposed ? ', **reachable from other machines**' : ''}): ` +
          `${formatCount(c.received)} received, ${formatCount(c.replies)} replies sent, ${formatCount(c.dropped)} dropped, ${formatCount(c.rateLimited)} rate-limited, ` +
          describeKernelDrops(this.workbench.kernelDroppedBy(server.id)),
        `  ${codeSpan(`replies: ${describeReply(server.replyMode, server.template)}; simulation: ${describeSimulation(server.simulation)}; ${describeProtection(server.protection)}`)}`,
      );
    }
    for (const proxy of this.workbench.runningProxies) {
      const { toServer, toClient } = proxy.counters;
      const way = (c: typeof toServer): string =>
        `${formatCount(c.received)} received, ${formatCount(c.forwarded)} forwarded, ${formatCount(c.dropped)} dropped`;
      lines.push(
        `- proxy \`${formatEndpoint(proxy.local)}\` → \`${formatEndpoint(proxy.upstream)}\` (${proxy.id}${proxy.exposed ? ', **reachable from other machines**' : ''}, ${formatCount(proxy.sessionCount)} sessions): ` +
          `client → server ${way(toServer)}; server → client ${way(toClient)}`,
        `  ${codeSpan(`client → server: ${describeLink(proxy.links.toServer)}; server → client: ${describeLink(proxy.links.toClient)}`)}`,
      );
    }
    const { client } = this.workbench.totals;
    const rtt = this.workbench.roundTrips;
    lines.push(
      '',
      `Sent ${formatCount(client.sent)}, replies ${formatCount(client.replies)}, timeouts ${formatCount(client.timeouts)} (${formatCount(client.gaveUp)} gave up after their last try), failures ${formatCount(client.failures)}`,
    );
    const { count, p50, p99, min, max } = rtt.summary();
    if (count > 0 && p50 !== undefined && p99 !== undefined && min !== undefined && max !== undefined) {
      lines.push(
        `Round trip over ${formatCount(count)}: p50 ${formatMs(p50)}, p99 ${formatMs(p99)}, min ${formatMs(min)}, max ${formatMs(max)}`,
      );
    }
    lines.push('', `Send Selection sends to \`${this.sendTarget()}\`; Send Selection To… picks another.`);
    if (exposed) lines.push('', '$(warning) A server is bound to an address other machines can reach.');
    lines.push('', 'Click for the UDP menu.');
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
    kernelDropped ? `${formatCount(kernelDropped)} dropped by the system` : '',
    timeouts > 0 ? `⏱${formatCount(timeouts)} timed out${gaveUp > 0 ? `, ${formatCount(gaveUp)} gave up` : ''}` : '',
  ].filter(Boolean);
  return parts.map((part) => ` · ${part}`).join('');
}

function describeKernelDrops(count: number | undefined): string {
  return count === undefined
    ? 'drops by the system not available on this system'
    : `${formatCount(count)} dropped by the system (receive buffer full)`;
}
