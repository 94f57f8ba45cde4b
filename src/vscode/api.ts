import type { Workbench } from '../core/workbench';
import type { StatusTotals } from './statusBar';
import type { TrafficViewState } from './trafficView';

/**
 * What `activate` returns: other extensions (and the integration tests) drive the same servers
 * and read back what the user sees.
 */
export interface UdpWorkbenchApi {
  /** Running servers, sends and the event stream. */
  readonly workbench: Workbench;
  /** The lines written to the "UDP Workbench" log, oldest first (after writing what is waiting). */
  logLines(): readonly string[];
  /** How many lines were ever written to the log; with logLines(), tells which lines are new. */
  logLinesWritten(): number;
  /** How the log batched: flushes that wrote something, and events only counted in a summary. */
  logBatching(): { flushes: number; notShown: number };
  /** The "UDP Traffic" view: whether it shows, how many updates it got, and the last one (totals, rows, charts). */
  trafficView(): TrafficViewState;
  /** The status bar item as shown, after redrawing it now. */
  statusBar(): { text: string; tooltip: string; totals: StatusTotals };
}
