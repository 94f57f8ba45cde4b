// What activate() builds around the workbench, everything but the vscode API itself: the batched log, the status bar
// and the UDP view's counters (redrawn a few times a second), the walkthrough's and context keys' listeners, the
// capture recorder with its ring buffer at the default size, and the traffic view's model (charts always fed; the
// list and its updates only while the view is open). The benchmark's target rows run with all of it attached.
import { CaptureBuffer } from '../src/core/capture/captureBuffer';
import { CaptureRecorder } from '../src/core/capture/captureRecorder';
import type { DescribeOptions } from '../src/core/log/eventText';
import { DEFAULT_BATCHING, LogBatcher, type LogWriter } from '../src/core/log/logBatcher';
import { formatCount } from '../src/core/stats';
import { Coalescer } from '../src/core/timing';
import { TrafficList } from '../src/core/traffic/trafficList';
import { TrafficRates } from '../src/core/traffic/trafficRates';
import type { Workbench } from '../src/core/workbench/workbench';
import { isServerListChange, walkthroughStepOf } from '../src/vscode/views/viewEvents';

/** package.json's default of udpWorkbench.capture.bufferSize, in datagrams. */
export const CAPTURE_BUFFER_SIZE = 10_000;
/** As src/vscode: the status bar and the UDP view redraw at most every 250 ms, the traffic view updates every 100 ms. */
const REFRESH_MS = 250;
const TRAFFIC_UPDATE_MS = 100;
const TRAFFIC_ROWS = 50;

/** Stands in for the LogOutputChannel: counts what is written and keeps the last lines, as OutputLog does. */
export class MemoryChannel implements LogWriter {
  lines = 0;
  bytes = 0;
  private readonly recent: string[] = [];

  info = (text: string): void => this.write(text);
  warn = (text: string): void => this.write(text);
  error = (text: string): void => this.write(text);

  private write(text: string): void {
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', at + 1)) this.lines++;
    this.lines++;
    this.bytes += Buffer.byteLength(text);
    this.recent.push(text);
    if (this.recent.length > 1000) this.recent.splice(0, this.recent.length - 1000);
  }
}

export interface ShippedViewOptions {
  /** The log settings; package.json's defaults unless given. */
  readonly log?: DescribeOptions;
  /** The traffic view open and following: its list filtered, a window of rows and the charts made every 100 ms. */
  readonly trafficViewOpen?: boolean;
}

export interface ShippedViews {
  readonly batcher: LogBatcher;
  readonly channel: MemoryChannel;
  readonly buffer: CaptureBuffer;
  /** Datagrams recorded, and traffic view updates made (and serialised, as postMessage would). */
  readonly counts: { recorded: number; trafficUpdates: number; statusRedraws: number };
  /** What the status bar would show now. */
  status(): string;
  dispose(): void;
}

export function attachShippedViews(workbench: Workbench, options: ShippedViewOptions = {}): ShippedViews {
  const counts = { recorded: 0, trafficUpdates: 0, statusRedraws: 0 };
  const channel = new MemoryChannel();
  // previewBytes and hexDump: the defaults of package.json.
  const batcher = new LogBatcher(channel, { ...DEFAULT_BATCHING, previewBytes: 256, hexDump: 'auto', ...options.log });
  const buffer = new CaptureBuffer(CAPTURE_BUFFER_SIZE);
  const rates = new TrafficRates();
  const list = new TrafficList(buffer);
  let trafficDirty = true;
  const recorder = new CaptureRecorder(buffer, (datagram) => {
    counts.recorded++;
    rates.addDatagram(datagram);
    trafficDirty = true;
  });
  let statusText = '';
  const statusBar = new Coalescer(() => {
    const totals = workbench.totals;
    const servers = workbench.runningServers.length;
    statusText = `${servers} ↓${formatCount(totals.server.received)} ↑${formatCount(totals.server.replies)} ✗${formatCount(totals.server.dropped)}`;
    counts.statusRedraws++;
  }, REFRESH_MS);
  const serversView = new Coalescer(() => {
    for (const server of workbench.runningServers) statusText += formatCount(server.counters.received);
  }, REFRESH_MS);
  const subscriptions = [
    // OutputLog
    workbench.events.subscribe((event) => {
      if (event.kind === 'send-failed') statusText = event.error.message;
      batcher.add(event);
    }),
    // StatusBar
    workbench.events.subscribe((event) => (event.kind === 'server-configured' ? statusBar.cancel() : statusBar.request())),
    // CaptureCommands
    workbench.events.subscribe(recorder.add),
    // TrafficView: the charts take every event, whether the view shows or not.
    workbench.events.subscribe((event) => {
      rates.addEvent(event);
      trafficDirty = true;
    }),
    // UdpViews: servers (counts a few times a second), targets, walkthrough; the serverRunning context key.
    workbench.events.subscribe((event) => (isServerListChange(event) ? serversView.cancel() : serversView.request())),
    workbench.events.subscribe((event) => void (event.kind === 'sent' && statusBar.request())),
    workbench.events.subscribe((event) => void walkthroughStepOf(event)),
    workbench.events.subscribe((event) => void (event.kind === 'server-started' || event.kind === 'server-stopped')),
  ];
  const trafficTimer = setInterval(() => {
    if (!options.trafficViewOpen || !trafficDirty) return;
    recorder.flush();
    list.update();
    const { first, rows } = list.window(list.matched - TRAFFIC_ROWS, TRAFFIC_ROWS);
    const message = {
      type: 'update',
      totals: { ...rates.totals, kept: buffer.size, notKept: buffer.notKept, capacity: buffer.capacity },
      matched: list.matched,
      first,
      rows,
      charts: rates.charts(Date.now()),
    };
    trafficDirty = false;
    // What postMessage does with it before the webview sees it.
    JSON.stringify(message);
    counts.trafficUpdates++;
  }, TRAFFIC_UPDATE_MS);
  return {
    batcher,
    channel,
    buffer,
    counts,
    status: () => statusText,
    dispose() {
      for (const subscription of subscriptions) subscription.dispose();
      clearInterval(trafficTimer);
      statusBar.cancel();
      serversView.cancel();
      batcher.dispose();
    },
  };
}
