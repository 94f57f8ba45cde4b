import type { Workbench } from '../core/workbench/workbench';
import type { Command } from './commandRegistry';
import type { OutputLog } from './outputLog';
import type { HostPlace } from './remoteWindow';
import type { ServerInfo } from './serverCommands';
import type { StatusBar, StatusTotals } from './statusBar';
import type { TrafficView, TrafficViewState } from './trafficView';
import type { UdpViews } from './views';

/** Not contributed in package.json, and registered only when VS Code runs the extension for tests. */
export const TEST_INTERNALS_COMMAND = 'udpWorkbench.test.internals';

/** What the integration tests read back beyond the public API: the core itself, the log and the status bar as shown. */
export interface TestInternals {
  /** Running servers, sends and the event stream. */
  readonly workbench: Workbench;
  /** The lines written to the "UDP Workbench" log, oldest first (after writing what is waiting). */
  logLines(): readonly string[];
  /** How many lines were ever written to the log; with logLines(), tells which lines are new. */
  logLinesWritten(): number;
  /** How the log batched: flushes that wrote something, and events only counted in a summary. */
  logBatching(): { flushes: number; notShown: number };
  /** The status bar item as shown, after redrawing it now. */
  statusBar(): { text: string; tooltip: string; totals: StatusTotals };
  /** The "UDP Traffic" view: whether it shows, how many updates it got, and the last one (totals, rows, charts). */
  trafficView(): TrafficViewState;
  /** The UDP view container's tree providers and the walkthrough's progress. */
  readonly views: UdpViews;
  /** Where VS Code runs the extension, as the remote-window wording reads it. */
  readonly place: HostPlace;
  /** The server start activate() began for `udpWorkbench.server.autoStart`, or undefined when it began none. */
  readonly autoStart: Promise<ServerInfo | undefined> | undefined;
}

/**
 * The tests' entry point to the internals, as a command that returns them (a command run in the same extension
 * host returns its result as it is). extension.ts registers it only in ExtensionMode.Test, so the public API
 * (api.ts) carries nothing that exists for tests.
 */
export function testInternalsCommand(
  workbench: Workbench,
  log: OutputLog,
  statusBar: StatusBar,
  traffic: TrafficView,
  { views, place, autoStart }: { views: UdpViews; place: HostPlace; autoStart: Promise<ServerInfo | undefined> | undefined },
): Command {
  const internals: TestInternals = {
    workbench,
    logLines: () => log.lines(),
    logLinesWritten: () => log.written,
    logBatching: () => log.batching,
    statusBar: () => {
      statusBar.refresh();
      return { text: statusBar.text, tooltip: statusBar.tooltip, totals: statusBar.totals() };
    },
    trafficView: () => traffic.state,
    views,
    place,
    autoStart,
  };
  return { id: TEST_INTERNALS_COMMAND, execute: () => internals };
}
