import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench/workbench';

/** The context keys the Command Palette's `when` clauses read: what a command can act on is running. */
const RUNNING_KEYS = { servers: 'udpWorkbench.serverRunning', proxies: 'udpWorkbench.proxyRunning' } as const;

/**
 * Keeps `udpWorkbench.serverRunning` true while any echo server (group listeners included) runs, and
 * `udpWorkbench.proxyRunning` while any impairment proxy does.
 */
export function trackRunningServers(workbench: Workbench): vscode.Disposable {
  const set = (key: string, running: boolean): void => void vscode.commands.executeCommand('setContext', key, running);
  set(RUNNING_KEYS.servers, workbench.runningServers.length > 0);
  set(RUNNING_KEYS.proxies, workbench.runningProxies.length > 0);
  return workbench.events.subscribe((event) => {
    // A server or proxy announces itself while it starts, before the workbench lists it as running.
    if (event.kind === 'server-started') set(RUNNING_KEYS.servers, true);
    else if (event.kind === 'server-stopped') set(RUNNING_KEYS.servers, workbench.runningServers.length > 0);
    else if (event.kind === 'proxy-started') set(RUNNING_KEYS.proxies, true);
    else if (event.kind === 'proxy-stopped') set(RUNNING_KEYS.proxies, workbench.runningProxies.length > 0);
  });
}
