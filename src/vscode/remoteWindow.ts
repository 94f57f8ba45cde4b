import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { formatEndpoint, isLoopback } from '../core/endpoint';
import type { Peer } from '../core/events';
import type { Workbench } from '../core/workbench/workbench';
import { Disposable } from './dispose';
import type { OutputLog } from './outputLog';

/** Where the extension host runs, as VS Code tells it: the sockets it opens are there, not where the window is. */
export interface HostPlace {
  /** `vscode.env.remoteName` ("ssh-remote", "wsl", "dev-container", "codespaces", …); undefined in a local window. */
  readonly remoteName: string | undefined;
  /** Workspace when the extension runs beside the files, on the remote machine of a remote window. */
  readonly extensionKind: vscode.ExtensionKind;
  /** The name of the machine the sockets are on. */
  readonly hostname: string;
}

export function hostPlace(extension: vscode.Extension<unknown>): HostPlace {
  return { remoteName: vscode.env.remoteName, extensionKind: extension.extensionKind, hostname: hostname() };
}

/** True when servers bind on another machine than the one the window shows on. */
export function isRemote(place: HostPlace): boolean {
  return place.remoteName !== undefined && place.extensionKind === vscode.ExtensionKind.Workspace;
}

/** The kinds of remote window VS Code names; any other name is the address of a server that serves the window to a browser. */
const REMOTE_KINDS = new Set(['ssh-remote', 'wsl', 'dev-container', 'attached-container', 'codespaces']);

/** "on the SSH host build-01", in the words of each kind of remote window. */
export function describeHost(place: HostPlace): string {
  const host = place.hostname;
  switch (place.remoteName) {
    case 'ssh-remote':
      return vscode.l10n.t('on the SSH host {0}', host);
    case 'wsl':
      return vscode.l10n.t('in WSL ({0})', host);
    case 'dev-container':
    case 'attached-container':
      return vscode.l10n.t('in the container {0}', host);
    case 'codespaces':
      return vscode.l10n.t('in the codespace {0}', host);
    default:
      // VS Code's own server or code-server, opened in a browser: its name is the address the browser connected to.
      return vscode.l10n.t('on {0}, the machine that serves this VS Code window ({1})', host, place.remoteName ?? '');
  }
}

/**
 * What a remote window must say about a socket: where it really listens, and who can reach it, since VS Code's port
 * forwarding carries TCP only. Undefined in a local window, where there is nothing to add.
 */
export function describeRemoteListening(place: HostPlace, local: Peer): string | undefined {
  if (!isRemote(place)) return undefined;
  const where = vscode.l10n.t('listening on {0} {1}', formatEndpoint(local), describeHost(place));
  if (!isLoopback(local.address)) {
    return vscode.l10n.t(
      '{0}; other machines reach it only if the network routes UDP to {1} — VS Code does not forward UDP',
      where,
      place.hostname,
    );
  }
  return REMOTE_KINDS.has(place.remoteName ?? '')
    ? vscode.l10n.t('{0}; programs on your laptop cannot reach it — VS Code does not forward UDP', where)
    : vscode.l10n.t('{0}; only programs on {1} can reach it — VS Code does not forward UDP', where, place.hostname);
}

/** One line for the status bar's tooltip: where every socket of this window is. */
export function describeRemoteWindow(place: HostPlace): string | undefined {
  if (!isRemote(place)) return undefined;
  return REMOTE_KINDS.has(place.remoteName ?? '')
    ? vscode.l10n.t(
        'This is a remote window: echo servers and proxies listen {0}, not on your laptop. VS Code does not forward UDP.',
        describeHost(place),
      )
    : vscode.l10n.t(
        'Echo servers and proxies listen {0}. VS Code does not forward UDP to the machine your browser runs on.',
        describeHost(place),
      );
}

/** In a remote window, the log says where each server or proxy that starts really listens. */
export class RemoteListeningNotes extends Disposable {
  constructor(workbench: Workbench, log: OutputLog, place: HostPlace) {
    super();
    if (!isRemote(place)) return;
    this._register(
      workbench.events.subscribe((event) => {
        if (event.kind !== 'server-started' && event.kind !== 'proxy-started') return;
        const id = event.kind === 'server-started' ? event.serverId : event.proxyId;
        const note = describeRemoteListening(place, event.local);
        if (note) log.warn(`[${id}] ${note}`);
      }),
    );
  }
}
