import { networkInterfaces } from 'node:os';
import * as vscode from 'vscode';
import { formatEndpoint, isWildcard, parseEndpoint, resolveHost, type Endpoint } from '../core/endpoint';
import type { EchoServer } from '../core/server/echoServer';
import { quoteInput, WorkbenchError } from '../core/errors';
import { isMulticast } from '../core/net/groupAddress';
import { describeMembership, listenAddressFor, parseGroupSpec } from '../core/net/groupMembership';
import { describeReply } from '../core/log/serverConfigText';
import { describeSimulation, parseSimulationSpec, SIMULATION_SPEC_EXAMPLE } from '../core/impairment/simulationSpec';
import { formatCount, plural } from '../core/stats';
import type { Workbench } from '../core/workbench/workbench';
import type { Command } from './commandRegistry';
import { presentError } from './errorMessages';
import { findRunning } from './findRunning';
import { mayListenOn } from './exposedAddress';
import { validateWith } from './inputValidation';
import type { OutputLog } from './outputLog';
import { openSettings, readSettings, type WorkbenchSettings } from './settings';
import type { GroupMembership, ReplyMode, SimulationSettings } from '../core/configuration';

/** Arguments for `udpWorkbench.startServer` from keybindings, other extensions and tests; the user is asked for what is missing. */
export interface StartServerArgs {
  readonly host?: string;
  readonly port?: number;
  readonly replyMode?: ReplyMode;
  readonly template?: string;
  readonly simulation?: Partial<SimulationSettings>;
  /** Skips the question before binding to an address other machines can reach. */
  readonly confirmExposed?: boolean;
  /**
   * Multicast groups to join, e.g. `["239.1.2.3", "ff02::1234%lo"]`; the server then listens on every interface
   * (`host` is not needed) and replies nothing unless `replyMode` says otherwise. A multicast `host` is joined too.
   */
  readonly groups?: readonly string[];
  /** The interface to join the groups on: a name such as `eth0`, or an address; default: the system's choice. */
  readonly interface?: string;
  /** Source-specific membership: only datagrams from this address are delivered. */
  readonly source?: string;
}

/** Arguments for `udpWorkbench.joinGroup`; the user is asked for what is missing. */
export interface JoinGroupArgs extends Omit<StartServerArgs, 'host' | 'groups'> {
  /** As typed in the palette: `239.1.2.3:5000`, several groups on one port, then optionally `on eth0` and `from 10.0.0.5`. */
  readonly group?: string;
}

export interface ServerInfo {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  readonly exposed: boolean;
  readonly replyMode: ReplyMode;
  readonly simulation: SimulationSettings;
  /** The multicast groups it joined: "239.1.2.3 on eth0". */
  readonly groups: readonly string[];
}

export interface ConfigureSimulationArgs extends Partial<SimulationSettings> {
  readonly serverId?: string;
  /** A one-line simulation such as "loss=10% delay=50ms seed=42". */
  readonly spec?: string;
}

const LAST_REPLY_MODE_KEY = 'udpWorkbench.lastReplyMode';

export function describeServer(server: EchoServer): ServerInfo {
  const { address, port, family } = server.local;
  return {
    id: server.id,
    address,
    port,
    family,
    exposed: server.exposed,
    replyMode: server.replyMode,
    simulation: server.simulation,
    groups: server.groups.map(describeMembership),
  };
}

/** The groups a start asks for: its `groups`, and its `host` when that is a group, all on its interface and source. */
function membershipsOf(args: StartServerArgs): GroupMembership[] {
  const groups = [...(args.groups ?? []), ...(args.host !== undefined && isMulticast(args.host) ? [args.host] : [])];
  return groups.map((group) => ({ group, interface: args.interface, source: args.source }));
}

/** The buffer sizes the system granted, next to what the settings asked for: a log line, so English as the core's are. */
function describeBuffers(server: EchoServer, asked: { recvBufferSize: number; sendBufferSize: number }): string {
  const size = (granted: number, wanted: number): string =>
    // l10n-ignore: the log stays English
    `${plural(granted, 'byte')}${wanted > 0 ? ` (asked for ${plural(wanted, 'byte')})` : ' (system default)'}`;
  // l10n-ignore: the log stays English
  return `receive buffer ${size(server.buffers.receive, asked.recvBufferSize)}, send buffer ${size(server.buffers.send, asked.sendBufferSize)}, as the system reports them`;
}

/** Start, stop and reconfigure echo servers. Every command reports its errors itself and never throws. */
export class ServerCommands {
  /** Servers binding right now. */
  private readonly binding = new Set<Promise<EchoServer>>();

  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.startServer', execute: (args: StartServerArgs) => this.start(args) },
    { id: 'udpWorkbench.joinGroup', execute: (args: JoinGroupArgs) => this.joinGroup(args) },
    // A bare id or address, as other extensions and tests pass it, arrives as `name`.
    { id: 'udpWorkbench.stopServer', execute: ({ name }: { name?: unknown }) => this.stop(typeof name === 'string' ? name : undefined) },
    { id: 'udpWorkbench.stopAllServers', execute: () => this.stopAll() },
  ];

  constructor(
    private readonly workbench: Workbench,
    private readonly log: OutputLog,
    private readonly state: vscode.Memento,
  ) {}

  /** Reads the settings once: what the user is asked and the server that binds come from the same snapshot. */
  async start(args: StartServerArgs = {}): Promise<ServerInfo | undefined> {
    const settings = readSettings();
    const { server } = settings;
    if (args.host === undefined && args.port === undefined) {
      const typed = await this.askForBindAddress(formatEndpoint({ host: server.bindAddress, port: server.port }));
      if (!typed) return undefined;
      // A group typed as the address is joined: a listener on a group replies nothing unless told to.
      const group = isMulticast(typed.host);
      const replyMode =
        args.replyMode ?? (await this.askForReplyMode(server.replyMode, args.template ?? server.template, group ? 'none' : undefined));
      return replyMode && this.bind({ ...args, ...typed, replyMode }, settings);
    }
    return this.bind({ ...args, host: args.host ?? server.bindAddress, port: args.port ?? server.port }, settings);
  }

  /**
   * Listens on one or more multicast groups. From the palette it asks for the groups, the interface and the reply
   * mode; given its groups (a keybinding, another extension) it asks nothing: the system's interface, no replies.
   */
  async joinGroup(args: JoinGroupArgs = {}): Promise<ServerInfo | undefined> {
    const settings = readSettings();
    const asking = args.group === undefined;
    const text = args.group ?? (await this.askForGroups());
    if (text === undefined) return undefined;
    let spec: ReturnType<typeof parseGroupSpec>;
    try {
      spec = parseGroupSpec(text);
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
    const [{ interface: typedInterface, source: typedSource }] = spec.groups;
    const iface = args.interface ?? typedInterface ?? (asking ? await this.askForInterface(spec.groups) : '');
    if (iface === undefined) return undefined;
    const { server } = settings;
    const replyMode =
      args.replyMode ?? (asking ? await this.askForReplyMode(server.replyMode, args.template ?? server.template, 'none') : 'none');
    if (replyMode === undefined) return undefined;
    const groups = spec.groups.map(({ group }) => group);
    return this.bind(
      {
        ...args,
        host: listenAddressFor(spec.groups),
        port: spec.port,
        groups,
        interface: iface || undefined,
        source: args.source ?? typedSource,
        replyMode,
      },
      settings,
    );
  }

  private async bind(args: StartServerArgs & { host: string; port: number }, settings: WorkbenchSettings): Promise<ServerInfo | undefined> {
    const groups = membershipsOf(args);
    const host = groups.length > 0 ? listenAddressFor(groups) : args.host;
    if (!(await mayListenOn(this.state, 'server', host, args.confirmExposed, groups))) return undefined;
    const binding = this.workbench.startServer({
      host,
      port: args.port,
      groups,
      replyMode: args.replyMode ?? (groups.length > 0 ? 'none' : settings.server.replyMode),
      template: args.template ?? settings.server.template,
      simulation: { ...settings.simulation, ...args.simulation },
      rateLimit: settings.server.rateLimit,
      allowAmplification: settings.server.allowAmplification,
      recvBufferSize: settings.server.recvBufferSize,
      sendBufferSize: settings.server.sendBufferSize,
    });
    this.binding.add(binding);
    try {
      const server = await binding;
      this.log.info(
        `[${server.id}] replies: ${describeReply(server.replyMode, server.template)}; simulation: ${describeSimulation(server.simulation)}`,
      );
      this.log.info(`[${server.id}] ${describeBuffers(server, settings.server)}`);
      return describeServer(server);
    } catch (error) {
      void presentError(error, this.log, {
        'use-another-port': async () => {
          const typed = await this.askForBindAddress(formatEndpoint({ host, port: args.port }));
          if (typed) await this.bind({ ...args, ...typed }, settings);
        },
        'use-any-port': () => this.bind({ ...args, port: 0 }, settings),
        'open-settings': openSettings,
      });
      return undefined;
    } finally {
      this.binding.delete(binding);
    }
  }

  /**
   * The "Start Echo Server" fix for a send that nothing listened to, for every sender: starts an echo server where
   * the send went, then sends again once it is bound. When one of ours listens there already (it finished binding
   * after the send was refused, or another fix started it), it sends to that one instead of failing to bind.
   */
  async startThenResend(target: Endpoint, resend: () => Promise<unknown>): Promise<void> {
    // A server still binding (auto-start, another fix) may be the one that listens there.
    await Promise.allSettled(this.binding);
    const listening = (await this.listeningAt(target)) ?? (await this.start({ host: target.host, port: target.port }));
    if (listening !== undefined) await resend();
  }

  /** A running server that datagrams sent to `target` reach. */
  private async listeningAt(target: Endpoint): Promise<ServerInfo | undefined> {
    let resolved: { address: string; family: 4 | 6 };
    try {
      resolved = await resolveHost(target.host, target.family);
    } catch {
      return undefined; // starting the server will say what is wrong with the host
    }
    const family = resolved.family === 6 ? 'IPv6' : 'IPv4';
    // A server on every interface hears its family; one on "::" (dual-stack) hears IPv4 too.
    const hears = ({ address, family: bound }: EchoServer['local']): boolean =>
      address === resolved.address || (isWildcard(address) && (bound === family || bound === 'IPv6'));
    const server = this.workbench.runningServers.find(({ local }) => local.port === target.port && hears(local));
    return server && describeServer(server);
  }

  /** Stops the server named by id or address, or the one the user picks; stopping nothing is not an error. */
  async stop(idOrAddress?: string): Promise<boolean> {
    const servers = this.workbench.runningServers;
    if (servers.length === 0) {
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(info) No echo server is running.'), 3000);
      return false;
    }
    const server =
      idOrAddress !== undefined
        ? this.find(idOrAddress)
        : servers.length === 1
          ? servers[0]
          : await this.pickServer(vscode.l10n.t('Stop which echo server?'));
    if (!server) return false;
    return this.workbench.stopServer(server.id);
  }

  async stopAll(): Promise<number> {
    return this.workbench.stopAllServers();
  }

  /** Changes the simulation of a running server, live. */
  async configureSimulation(args: ConfigureSimulationArgs = {}): Promise<SimulationSettings | undefined> {
    const servers = this.workbench.runningServers;
    if (servers.length === 0) {
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t('No echo server is running: start one to simulate loss on it.'),
        vscode.l10n.t('Start Echo Server'),
      );
      if (choice) await this.start();
      return undefined;
    }
    const server =
      args.serverId !== undefined
        ? this.find(args.serverId)
        : servers.length === 1
          ? servers[0]
          : await this.pickServer(vscode.l10n.t('Configure the simulation of which echo server?'));
    if (!server) return undefined;
    try {
      const { serverId, spec: givenSpec, ...fields } = args;
      const spec = givenSpec ?? (Object.keys(fields).length > 0 ? undefined : await this.askForSimulation(server));
      if (spec === undefined && Object.keys(fields).length === 0) return undefined;
      const next = spec === undefined ? { ...server.simulation, ...fields } : parseSimulationSpec(spec, server.simulation);
      // The server announces the change on the event stream: the log and the status bar show it from there.
      server.configureSimulation(next);
      return server.simulation;
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
  }

  private find(idOrAddress: string): EchoServer | undefined {
    const missing = (): WorkbenchError =>
      new WorkbenchError(
        'BAD_SETTING',
        vscode.l10n.t('No echo server {0} is running.', quoteInput(idOrAddress)),
        vscode.l10n.t('Pick one from the list of running servers.'),
      );
    return findRunning(this.workbench.runningServers, idOrAddress, missing, this.log);
  }

  private async pickServer(placeHolder: string): Promise<EchoServer | undefined> {
    const picked = await vscode.window.showQuickPick(
      this.workbench.runningServers.map((server) => ({
        label: formatEndpoint(server.local),
        description: server.id,
        detail: vscode.l10n.t(
          '{0} received · {1} · {2}',
          formatCount(server.counters.received),
          server.replyMode,
          describeSimulation(server.simulation),
        ),
        server,
      })),
      { placeHolder },
    );
    return picked?.server;
  }

  private async askForBindAddress(value: string): Promise<{ host: string; port: number } | undefined> {
    const typed = await vscode.window.showInputBox({
      title: vscode.l10n.t('Start Echo Server'),
      prompt: vscode.l10n.t('Bind address and port. 127.0.0.1 or ::1 is this machine only; port 0 picks any free port.'),
      value,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseEndpoint(text, { allowPortZero: true })),
    });
    return typed === undefined ? undefined : parseEndpoint(typed, { allowPortZero: true });
  }

  /**
   * Mirror, the template, or listen only; the last choice (before the first, the setting's) is offered first, or
   * `suggested` (listen only for a group, whose members usually just listen).
   */
  private async askForReplyMode(setting: ReplyMode, template: string, suggested?: ReplyMode): Promise<ReplyMode | undefined> {
    const remembered = this.state.get<ReplyMode>(LAST_REPLY_MODE_KEY);
    const first = suggested ?? remembered ?? setting;
    const why =
      suggested !== undefined
        ? vscode.l10n.t('usual for a group')
        : remembered
          ? vscode.l10n.t('last used')
          : vscode.l10n.t('the reply mode setting');
    const modes: Array<vscode.QuickPickItem & { mode: ReplyMode }> = [
      { label: vscode.l10n.t('Mirror'), detail: vscode.l10n.t('Send each datagram back as it came.'), mode: 'mirror' },
      {
        label: vscode.l10n.t('Template'),
        description: template,
        detail: vscode.l10n.t('Send the reply template back, filled in (the {0} setting).', 'udpWorkbench.server.template'),
        mode: 'template',
      },
      { label: vscode.l10n.t('Listen only'), detail: vscode.l10n.t('Reply nothing: log what arrives from other programs.'), mode: 'none' },
    ];
    const ordered = [
      ...modes
        .filter((item) => item.mode === first)
        .map((item) => ({ ...item, description: item.description ? `${why} · ${item.description}` : why })),
      ...modes.filter((item) => item.mode !== first),
    ];
    const picked = await vscode.window.showQuickPick(ordered, {
      title: suggested === undefined ? vscode.l10n.t('Start Echo Server: Reply Mode') : vscode.l10n.t('Join Multicast Group: Reply Mode'),
      placeHolder: vscode.l10n.t('How should the echo server answer each datagram?'),
      ignoreFocusOut: true,
    });
    // A group's suggestion is not the user's choice for the next unicast server.
    if (picked && suggested === undefined) await this.state.update(LAST_REPLY_MODE_KEY, picked.mode);
    return picked?.mode;
  }

  private async askForGroups(): Promise<string | undefined> {
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Join Multicast Group'),
      prompt: vscode.l10n.t(
        'Group and port, e.g. 239.255.255.250:1900 or [ff02::1234%lo]:5000; several groups on one port separated by spaces; then optionally "on eth0" (the interface) and "from 10.0.0.5" (only that source).',
      ),
      placeHolder: '239.1.2.3:5000',
      ignoreFocusOut: true,
      validateInput: validateWith(parseGroupSpec),
    });
  }

  /** '' lets the system choose by its routes; a scoped IPv6 group already names its interface. */
  private async askForInterface(groups: readonly GroupMembership[]): Promise<string | undefined> {
    if (groups.every(({ group }) => group.includes('%'))) return '';
    const interfaces = Object.entries(networkInterfaces()).map(([name, infos]) => ({
      label: name,
      description: (infos ?? []).map((info) => info.address).join(', '),
      name,
    }));
    const picked = await vscode.window.showQuickPick(
      [{ label: vscode.l10n.t('System default'), description: vscode.l10n.t('the interface the routes choose'), name: '' }, ...interfaces],
      {
        title: vscode.l10n.t('Join Multicast Group: Interface'),
        placeHolder: vscode.l10n.t('Join {0} on which network interface?', groups.map(({ group }) => group).join(', ')),
        ignoreFocusOut: true,
      },
    );
    return picked?.name;
  }

  private async askForSimulation(server: EchoServer): Promise<string | undefined> {
    const presets = [
      { label: vscode.l10n.t('No impairment'), spec: 'off' },
      { label: vscode.l10n.t('{0}% loss', 10), spec: 'loss=10%' },
      { label: vscode.l10n.t('{0}% loss', 30), spec: 'loss=30%' },
      {
        label: vscode.l10n.t('Busy Wi-Fi'),
        description: vscode.l10n.t('5% loss, 40 ms + up to 30 ms jitter, 1% reordered'),
        spec: 'loss=5% delay=40ms jitter=30ms reorder=1%',
      },
      {
        label: vscode.l10n.t('Mobile network'),
        description: vscode.l10n.t('2% loss, 120 ms + up to 80 ms jitter, 1% duplicated'),
        spec: 'loss=2% delay=120ms jitter=80ms dup=1%',
      },
      { label: vscode.l10n.t('Custom…'), spec: undefined },
    ];
    const picked = await vscode.window.showQuickPick(
      presets.map((preset) => ({ ...preset, detail: preset.spec })),
      { placeHolder: vscode.l10n.t('Simulation on {0} (now: {1})', formatEndpoint(server.local), describeSimulation(server.simulation)) },
    );
    if (!picked) return undefined;
    if (picked.spec !== undefined) return picked.spec;
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Configure Simulation'),
      prompt: vscode.l10n.t('Chances in %, times in ms; the seed makes a run repeat exactly.'),
      placeHolder: SIMULATION_SPEC_EXAMPLE,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseSimulationSpec(text, server.simulation)),
    });
  }
}
