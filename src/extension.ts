import * as vscode from 'vscode';
import { Workbench } from './core/workbench';
import type { UdpWorkbenchApi } from './vscode/api';
import { CaptureCommands } from './vscode/captureCommands';
import { applySettingsLive } from './vscode/liveSettings';
import { OutputLog } from './vscode/outputLog';
import { ProxyCommands } from './vscode/proxyCommands';
import { registerRequestFiles } from './vscode/requestFiles';
import { showQuickMenu } from './vscode/quickMenu';
import { SendCommands } from './vscode/sendCommands';
import { ServerCommands } from './vscode/serverCommands';
import { onDidChangeSettings, readSettings } from './vscode/settings';
import { StatusBar } from './vscode/statusBar';
import { trackRunningServers } from './vscode/serverContext';

let workbench: Workbench | undefined;
let capture: CaptureCommands | undefined;

export function activate(context: vscode.ExtensionContext): UdpWorkbenchApi {
  const bench = (workbench = new Workbench());
  const settings = readSettings();
  const log = new OutputLog(bench, settings);
  const servers = new ServerCommands(bench, log, context.globalState);
  const sends = new SendCommands(bench, log, context.globalState, servers);
  const proxies = new ProxyCommands(bench, log, context.globalState, servers);
  const captures = (capture = new CaptureCommands(bench, log));
  const statusBar = new StatusBar(bench, () => sends.lastTarget ?? readSettings().send.target);

  context.subscriptions.push(
    log,
    statusBar,
    trackRunningServers(bench),
    registerRequestFiles({ workbench: bench, log, servers }),
    applySettingsLive(bench, log),
    onDidChangeSettings((_, changed) => {
      if (changed('send.target')) void sends.forgetLastTarget();
    }),
    vscode.commands.registerCommand('udpWorkbench.startServer', (args) => servers.start(args)),
    vscode.commands.registerCommand('udpWorkbench.stopServer', (idOrAddress) => servers.stop(typeof idOrAddress === 'string' ? idOrAddress : undefined)),
    vscode.commands.registerCommand('udpWorkbench.stopAllServers', () => servers.stopAll()),
    vscode.commands.registerCommand('udpWorkbench.configureSimulation', (args) => proxies.configureSimulation(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.startProxy', (args) => proxies.start(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.stopProxy', (idOrAddress) => proxies.stop(typeof idOrAddress === 'string' ? idOrAddress : undefined)),
    vscode.commands.registerCommand('udpWorkbench.sendSelection', (args) => sends.sendSelection(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.sendSelectionTo', (args) => sends.sendSelectionTo(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.showLog', () => log.show()),
    vscode.commands.registerCommand('udpWorkbench.showMenu', () => showQuickMenu(bench, captures.capturing)),
    captures,
    vscode.commands.registerCommand('udpWorkbench.saveCapture', (args) => captures.save(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.startCapture', (args) => captures.start(isArgs(args) ? args : undefined)),
    vscode.commands.registerCommand('udpWorkbench.stopCapture', () => captures.stop()),
  );

  if (settings.server.autoStart && vscode.workspace.isTrusted) {
    void servers.start({ host: settings.server.bindAddress, port: settings.server.port });
  }

  return {
    workbench: bench,
    logLines: () => log.lines(),
    logLinesWritten: () => log.written,
    logBatching: () => log.batching,
    statusBar: () => {
      statusBar.refresh();
      return { text: statusBar.text, tooltip: statusBar.tooltip, totals: statusBar.totals() };
    },
  };
}

/** Closes every socket and timer; VS Code disposes the views after this resolves. */
export async function deactivate(): Promise<void> {
  await workbench?.dispose();
  workbench = undefined;
  await capture?.close();
  capture = undefined;
}

/** Editor context menus pass the document's URI as the first argument; only plain objects are our arguments. */
function isArgs(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof vscode.Uri);
}
