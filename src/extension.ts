import * as vscode from 'vscode';
import { messageOf } from './core/errors';
import { Workbench } from './core/workbench/workbench';
import { createApi, type UdpWorkbenchApi } from './vscode/api';
import { CaptureCommands } from './vscode/captureCommands';
import { registerCommands } from './vscode/commandRegistry';
import { applySettingsLive } from './vscode/liveSettings';
import { OutputLog } from './vscode/outputLog';
import { ProxyCommands } from './vscode/proxyCommands';
import { quickMenuCommand } from './vscode/quickMenu';
import { hostPlace, RemoteListeningNotes } from './vscode/remoteWindow';
import { RequestFiles } from './vscode/requestFiles';
import { SendCommands } from './vscode/sendCommands';
import { ServerCommands } from './vscode/serverCommands';
import { readSettings } from './vscode/settings';
import { StatusBar } from './vscode/statusBar';
import { trackRunningServers } from './vscode/serverContext';
import { testInternalsCommand } from './vscode/testInternals';
import { TrafficView } from './vscode/trafficView';
import { UdpViews } from './vscode/views';

let workbench: Workbench | undefined;
let capture: CaptureCommands | undefined;

/** Builds the views and commands over one workbench and wires them together; each owns what it creates. */
export function activate(context: vscode.ExtensionContext): UdpWorkbenchApi {
  const bench = (workbench = new Workbench());
  const settings = readSettings();
  const log = new OutputLog(bench, settings);
  bench.events.onListenerError = (error) => log.error(`an event listener threw: ${messageOf(error)}`);
  const servers = new ServerCommands(bench, log, context.globalState);
  const sends = new SendCommands(bench, log, context.globalState, servers);
  const proxies = new ProxyCommands(bench, log, context.globalState, servers);
  const captures = (capture = new CaptureCommands(bench, log));
  const traffic = new TrafficView(context.extensionUri, bench, captures);
  const place = hostPlace(context.extension);
  const statusBar = new StatusBar(bench, () => sends.lastTarget ?? readSettings().send.target, place);
  const requestFiles = new RequestFiles({ workbench: bench, log, servers });
  const views = new UdpViews({
    workbench: bench,
    state: context.globalState,
    workspaceState: context.workspaceState,
    runner: requestFiles.runner,
    place,
  });
  const autoStart =
    settings.server.autoStart && vscode.workspace.isTrusted
      ? servers.start({ host: settings.server.bindAddress, port: settings.server.port })
      : undefined;
  const testOnly =
    context.extensionMode === vscode.ExtensionMode.Test
      ? [testInternalsCommand(bench, log, statusBar, traffic, { views, place, autoStart })]
      : [];

  context.subscriptions.push(
    log,
    statusBar,
    sends,
    captures,
    requestFiles,
    traffic,
    views,
    new RemoteListeningNotes(bench, log, place),
    trackRunningServers(bench),
    applySettingsLive(bench, log),
    registerCommands([
      ...servers.commands,
      ...proxies.commands,
      ...sends.commands,
      ...captures.commands,
      ...requestFiles.commands,
      ...log.commands,
      ...traffic.commands,
      ...views.commands,
      quickMenuCommand(bench, () => captures.capturing),
      ...testOnly,
    ]),
  );

  return createApi(bench, servers);
}

/** Closes every socket and timer; VS Code disposes the views after this resolves. */
export async function deactivate(): Promise<void> {
  await workbench?.dispose();
  workbench = undefined;
  await capture?.close();
  capture = undefined;
}
