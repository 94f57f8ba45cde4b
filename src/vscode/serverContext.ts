import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench';

/** Keeps the `udpWorkbench.serverRunning` context key true while any echo server runs (menus use it). */
export function trackRunningServers(workbench: Workbench): vscode.Disposable {
  const set = (running: boolean): void => void vscode.commands.executeCommand('setContext', 'udpWorkbench.serverRunning', running);
  set(workbench.runningServers.length > 0);
  return workbench.events.subscribe((event) => {
    // A server announces itself while it starts, before the workbench lists it as running.
    if (event.kind === 'server-started') set(true);
    else if (event.kind === 'server-stopped') set(workbench.runningServers.length > 0);
  });
}
