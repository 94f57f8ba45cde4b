import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench';

/** Keeps the `udpWorkbench.serverRunning` context key true while any echo server runs (menus use it). */
export function trackRunningServers(workbench: Workbench): vscode.Disposable {
  const update = (): void => void vscode.commands.executeCommand('setContext', 'udpWorkbench.serverRunning', workbench.runningServers.length > 0);
  update();
  return workbench.events.subscribe((event) => {
    if (event.kind === 'server-started' || event.kind === 'server-stopped') update();
  });
}
