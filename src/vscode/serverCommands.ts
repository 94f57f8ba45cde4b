import * as vscode from 'vscode';
import { formatEndpoint, isWildcard, parseEndpoint, resolveHost, type Endpoint } from '../core/endpoint';
import type { EchoServer, ReplyMode } from '../core/echoServer';
import { quoteInput, WorkbenchError } from '../core/errors';
import type { SimulationSettings } from '../core/impairment';
import { describeReply } from '../core/serverConfigText';
import { describeSimulation, parseSimulationSpec, SIMULATION_SPEC_EXAMPLE } from '../core/simulationSpec';
import { formatCount, plural } from '../core/stats';
import type { Workbench } from '../core/workbench';
import type { Command } from './commandRegistry';
import { presentError } from './errorMessages';
import { mayListenOn } from './exposedAddress';
import { validateWith } from './inputValidation';
import type { OutputLog } from './outputLog';
import { openSettings, readSettings, type WorkbenchSettings } from './settings';

/** Arguments for `udpWorkbench.startServer` from keybindings, other extensions and tests; the user is asked for what is missing. */
export interface StartServerArgs {
  readonly host?: string;
  readonly port?: number;
  readonly replyMode?: ReplyMode;
  readonly template?: string;
  readonly simulation?: Partial<SimulationSettings>;
  /** Skips the question before binding to an address other machines can reach. */
  readonly confirmExposed?: boolean;
}

export interface ServerInfo {
  readonly id: string;
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  readonly exposed: boolean;
  readonly replyMode: ReplyMode;
  readonly simulation: SimulationSettings;
}

export interface ConfigureSimulationArgs extends Partial<SimulationSettings> {
  readonly serverId?: string;
  /** A one-line simulation such as "loss=10% delay=50ms seed=42". */
  readonly spec?: string;
}

const LAST_REPLY_MODE_KEY = 'udpWorkbench.lastReplyMode';

export function describeServer(server: EchoServer): ServerInfo {
  const { address, port, family } = server.local;
  return { id: server.id, address, port, family, exposed: server.exposed, replyMode: server.replyMode, simulation: server.simulation };
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
      const replyMode = args.replyMode ?? (await this.askForReplyMode(server.replyMode, args.template ?? server.template));
      return replyMode && this.bind({ ...args, ...typed, replyMode }, settings);
    }
    return this.bind({ ...args, host: args.host ?? server.bindAddress, port: args.port ?? server.port }, settings);
  }

  private async bind(args: StartServerArgs & { host: string; port: number }, settings: WorkbenchSettings): Promise<ServerInfo | undefined> {
    if (!(await mayListenOn(this.state, 'server', args.host, args.confirmExposed))) return undefined;
    const binding = this.workbench.startServer({
      host: args.host,
      port: args.port,
      replyMode: args.replyMode ?? settings.server.replyMode,
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
          const typed = await this.askForBindAddress(formatEndpoint(args));
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
    const server = this.workbench.runningServers.find((s) => s.id === idOrAddress || formatEndpoint(s.local) === idOrAddress);
    if (!server) {
      void presentError(
        new WorkbenchError(
          'BAD_SETTING',
          vscode.l10n.t('No echo server {0} is running.', quoteInput(idOrAddress)),
          vscode.l10n.t('Pick one from the list of running servers.'),
        ),
        this.log,
      );
    }
    return server;
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

  /** Mirror, the template, or listen only; the last choice (before the first, the setting's) is offered first. */
  private async askForReplyMode(setting: ReplyMode, template: string): Promise<ReplyMode | undefined> {
    const remembered = this.state.get<ReplyMode>(LAST_REPLY_MODE_KEY);
    const first = remembered ?? setting;
    const why = remembered ? vscode.l10n.t('last used') : vscode.l10n.t('the reply mode setting');
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
      title: vscode.l10n.t('Start Echo Server: Reply Mode'),
      placeHolder: vscode.l10n.t('How should the echo server answer each datagram?'),
      ignoreFocusOut: true,
    });
    if (picked) await this.state.update(LAST_REPLY_MODE_KEY, picked.mode);
    return picked?.mode;
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
