import * as vscode from 'vscode';
import { formatEndpoint, parseEndpoint } from '../core/endpoint';
import { quoteInput, WorkbenchError } from '../core/errors';
import type { Direction } from '../core/events';
import { NO_LINK_IMPAIRMENT } from '../core/impairment/impairment';
import type { ImpairmentProxy, ProxyLinks } from '../core/impairment/impairmentProxy';
import { describeDirection } from '../core/log/eventText';
import { describeLink, LINK_PRESETS, LINK_SPEC_EXAMPLE, parseLinkSpec } from '../core/impairment/simulationSpec';
import { formatCount } from '../core/stats';
import { countSessions } from './counts';
import type { Workbench } from '../core/workbench/workbench';
import { presentError } from './errorMessages';
import { findRunning } from './findRunning';
import { mayListenOn } from './exposedAddress';
import { validateWith } from './inputValidation';
import type { OutputLog } from './outputLog';
import type { Command } from './commandRegistry';
import { openSettings, readSettings } from './settings';
import type { ConfigureSimulationArgs, ServerCommands } from './serverCommands';
import type { LinkSettings } from '../core/configuration';

/** Arguments for `udpWorkbench.startProxy` from keybindings, other extensions and tests; the user is asked for what is missing. */
export interface StartProxyArgs {
  /** "host:port" to listen on; port 0 picks any free one. */
  readonly listen?: string;
  /** The real server, "host:port". */
  readonly upstream?: string;
  /** One-line link specs or presets ("bad-game", "loss=5% delay=80ms"), per direction. */
  readonly toServer?: string;
  readonly toClient?: string;
  /** Skips the question before listening on an address other machines can reach. */
  readonly confirmExposed?: boolean;
}

export interface ProxyInfo {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly upstream: string;
  readonly exposed: boolean;
  readonly links: ProxyLinks;
}

/** `udpWorkbench.configureSimulation` for a proxy: which one, which way (or both), and the spec. */
export interface ConfigureProxyArgs {
  readonly proxyId?: string;
  readonly direction?: Direction | 'both';
  readonly spec?: string;
}

const RECENT_UPSTREAMS_KEY = 'udpWorkbench.recentProxyUpstreams';
const MAX_RECENT_UPSTREAMS = 10;

export function describeProxy(proxy: ImpairmentProxy): ProxyInfo {
  return {
    id: proxy.id,
    address: proxy.local.address,
    port: proxy.local.port,
    upstream: formatEndpoint(proxy.upstream),
    exposed: proxy.exposed,
    links: proxy.links,
  };
}

/** Start, stop and reconfigure impairment proxies. Every command reports its errors itself and never throws. */
export class ProxyCommands {
  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.startProxy', execute: (args: StartProxyArgs) => this.start(args) },
    // A bare id or address, as other extensions and tests pass it, arrives as `name`.
    { id: 'udpWorkbench.stopProxy', execute: ({ name }: { name?: unknown }) => this.stop(typeof name === 'string' ? name : undefined) },
    // With proxies running it asks which server or proxy; servers keep their own questions.
    {
      id: 'udpWorkbench.configureSimulation',
      execute: (args: ConfigureProxyArgs & ConfigureSimulationArgs) => this.configureSimulation(args),
    },
  ];

  constructor(
    private readonly workbench: Workbench,
    private readonly log: OutputLog,
    private readonly state: vscode.Memento,
    private readonly servers: ServerCommands,
  ) {}

  async start(args: StartProxyArgs = {}): Promise<ProxyInfo | undefined> {
    const settings = readSettings().proxy;
    const listen = args.listen ?? (await this.askForListenAddress(settings.listenAddress));
    if (listen === undefined) return undefined;
    const upstream = args.upstream ?? (await this.askForUpstream(settings.upstream));
    if (upstream === undefined) return undefined;
    try {
      const local = parseEndpoint(listen, { allowPortZero: true });
      const target = parseEndpoint(upstream);
      if (!(await mayListenOn(this.state, 'proxy', local.host, args.confirmExposed))) return undefined;
      const seeded = { ...NO_LINK_IMPAIRMENT, seed: readSettings().simulation.seed };
      const proxy = await this.workbench.startProxy({
        host: local.host,
        port: local.port,
        upstreamHost: target.host,
        upstreamPort: target.port,
        links: {
          toServer: args.toServer === undefined ? seeded : parseLinkSpec(args.toServer, seeded),
          toClient: args.toClient === undefined ? seeded : parseLinkSpec(args.toClient, seeded),
        },
        idleTimeoutMs: settings.idleTimeoutMs,
        maxSessions: settings.maxSessions,
        rateLimit: readSettings().server.rateLimit,
        allowAmplification: readSettings().server.allowAmplification,
      });
      await this.remember(formatEndpoint(target));
      for (const direction of ['to-server', 'to-client'] as const) {
        this.log.info(
          `[${proxy.id}] ${describeDirection(direction)}: ${describeLink(direction === 'to-server' ? proxy.links.toServer : proxy.links.toClient)}`,
        );
      }
      return describeProxy(proxy);
    } catch (error) {
      void presentError(error, this.log, {
        'open-settings': openSettings,
        'use-another-port': () => this.start({ ...args, listen: undefined }),
      });
      return undefined;
    }
  }

  /** Stops the proxy named by id or address, or the one the user picks. */
  async stop(idOrAddress?: string): Promise<boolean> {
    const proxies = this.workbench.runningProxies;
    if (proxies.length === 0) {
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(info) No impairment proxy is running.'), 3000);
      return false;
    }
    const proxy =
      idOrAddress !== undefined
        ? this.find(idOrAddress)
        : proxies.length === 1
          ? proxies[0]
          : await this.pickProxy(vscode.l10n.t('Stop which impairment proxy?'));
    return proxy !== undefined && this.workbench.stopProxy(proxy.id);
  }

  /**
   * `UDP: Configure Simulation`: with proxies running, asks which server or proxy first; servers keep their own
   * questions (ServerCommands).
   */
  async configureSimulation(args: (ConfigureProxyArgs & ConfigureSimulationArgs) | undefined): Promise<unknown> {
    const proxies = this.workbench.runningProxies;
    if (args?.proxyId === undefined && (args?.serverId !== undefined || proxies.length === 0)) {
      return this.servers.configureSimulation(args);
    }
    let proxy: ImpairmentProxy | undefined;
    if (args?.proxyId !== undefined) proxy = this.find(args.proxyId);
    else {
      const picked = await vscode.window.showQuickPick(
        [
          ...proxies.map((p) => ({
            label: `$(arrow-swap) ${formatEndpoint(p.local)} → ${formatEndpoint(p.upstream)}`,
            description: p.id,
            proxy: p as ImpairmentProxy | undefined,
            serverId: undefined,
          })),
          ...this.workbench.runningServers.map((s) => ({
            label: `$(radio-tower) ${formatEndpoint(s.local)}`,
            description: s.id,
            proxy: undefined,
            serverId: s.id as string | undefined,
          })),
        ],
        { placeHolder: vscode.l10n.t('Configure the simulation of which server or proxy?') },
      );
      if (!picked) return undefined;
      if (picked.serverId !== undefined) return this.servers.configureSimulation({ ...args, serverId: picked.serverId });
      proxy = picked.proxy;
    }
    if (!proxy) return undefined;
    try {
      const direction = args?.direction ?? (await this.askForDirection(proxy));
      if (direction === undefined) return undefined;
      const directions: Direction[] = direction === 'both' ? ['to-server', 'to-client'] : [direction];
      const current = (which: Direction): LinkSettings => (which === 'to-server' ? proxy.links.toServer : proxy.links.toClient);
      const spec = args?.spec ?? (await this.askForSpec(proxy, current(directions[0])));
      if (spec === undefined) return undefined;
      // Both parsed before either applies, so a bad spec changes nothing.
      const next = directions.map((which) => [which, parseLinkSpec(spec, current(which))] as const);
      for (const [which, settings] of next) proxy.configure(which, settings);
      return proxy.links;
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
  }

  private find(idOrAddress: string): ImpairmentProxy | undefined {
    const missing = (): WorkbenchError =>
      new WorkbenchError(
        'BAD_SETTING',
        vscode.l10n.t('No impairment proxy {0} is running.', quoteInput(idOrAddress)),
        vscode.l10n.t('Pick one from the list of running proxies.'),
      );
    return findRunning(this.workbench.runningProxies, idOrAddress, missing, this.log);
  }

  private async pickProxy(placeHolder: string): Promise<ImpairmentProxy | undefined> {
    const picked = await vscode.window.showQuickPick(
      this.workbench.runningProxies.map((proxy) => ({
        label: `${formatEndpoint(proxy.local)} → ${formatEndpoint(proxy.upstream)}`,
        description: proxy.id,
        detail: vscode.l10n.t(
          '{0} · {1} received from clients',
          countSessions(proxy.sessionCount),
          formatCount(proxy.counters.toServer.received),
        ),
        proxy,
      })),
      { placeHolder },
    );
    return picked?.proxy;
  }

  private askForListenAddress(value: string): Thenable<string | undefined> {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Start Impairment Proxy: Listen Address'),
      prompt: vscode.l10n.t('Where your client sends to. 127.0.0.1 or ::1 is this machine only; port 0 picks any free port.'),
      value,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseEndpoint(text, { allowPortZero: true })),
    });
  }

  /** Recent upstreams, the setting and running echo servers are offered; anything else can be typed. */
  private async askForUpstream(setting: string): Promise<string | undefined> {
    const offered = [
      ...new Set([
        ...this.state.get<string[]>(RECENT_UPSTREAMS_KEY, []),
        ...(setting ? [setting] : []),
        ...this.workbench.runningServers.map((s) => formatEndpoint(s.local)),
      ]),
    ];
    const quickPick = vscode.window.createQuickPick();
    quickPick.title = vscode.l10n.t('Start Impairment Proxy: Upstream Server');
    quickPick.placeholder = vscode.l10n.t('host:port of your real server');
    quickPick.ignoreFocusOut = true;
    const items = offered.map((label) => ({ label }));
    quickPick.items = items;
    quickPick.onDidChangeValue((value) => {
      quickPick.items = value && !offered.includes(value) ? [{ label: value, description: vscode.l10n.t('typed') }, ...items] : items;
    });
    const picked = await new Promise<string | undefined>((resolve) => {
      quickPick.onDidAccept(() => resolve(quickPick.selectedItems[0]?.label ?? (quickPick.value || undefined)));
      quickPick.onDidHide(() => resolve(undefined));
      quickPick.show();
    });
    quickPick.dispose();
    return picked;
  }

  private async remember(upstream: string): Promise<void> {
    const recent = this.state.get<string[]>(RECENT_UPSTREAMS_KEY, []).filter((u) => u !== upstream);
    await this.state.update(RECENT_UPSTREAMS_KEY, [upstream, ...recent].slice(0, MAX_RECENT_UPSTREAMS));
  }

  private async askForDirection(proxy: ImpairmentProxy): Promise<Direction | 'both' | undefined> {
    const picked = await vscode.window.showQuickPick(
      [
        {
          label: vscode.l10n.t('Both directions'),
          detail: vscode.l10n.t(
            'client → server: {0}; server → client: {1}',
            describeLink(proxy.links.toServer),
            describeLink(proxy.links.toClient),
          ),
          direction: 'both' as const,
        },
        { label: describeDirection('to-server'), detail: describeLink(proxy.links.toServer), direction: 'to-server' as const },
        { label: describeDirection('to-client'), detail: describeLink(proxy.links.toClient), direction: 'to-client' as const },
      ],
      { placeHolder: vscode.l10n.t('Which way through {0} → {1}?', formatEndpoint(proxy.local), formatEndpoint(proxy.upstream)) },
    );
    return picked?.direction;
  }

  private async askForSpec(proxy: ImpairmentProxy, current: LinkSettings): Promise<string | undefined> {
    const picked = await vscode.window.showQuickPick(
      [
        // l10n-ignore: the detail is the spec itself, as it is typed
        { label: vscode.l10n.t('No impairment'), detail: 'off', spec: 'off' as string | undefined },
        ...Object.entries(LINK_PRESETS).map(([name, preset]) => ({
          label: preset.label,
          description: name,
          detail: preset.spec,
          spec: name as string | undefined,
        })),
        { label: vscode.l10n.t('Custom…'), detail: vscode.l10n.t('now: {0}', describeLink(current)), spec: undefined },
      ],
      { placeHolder: vscode.l10n.t('Conditions on {0}', proxy.id) },
    );
    if (!picked) return undefined;
    if (picked.spec !== undefined) return picked.spec;
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Configure Simulation'),
      prompt: vscode.l10n.t(
        'Chances in %, times in ms, rate in kbit or mbit, burst = mean losses in a row; a preset name may come first. The seed makes a run repeat exactly.',
      ),
      placeHolder: LINK_SPEC_EXAMPLE,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseLinkSpec(text, current)),
    });
  }
}
