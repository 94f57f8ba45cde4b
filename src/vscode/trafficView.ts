import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Workbench } from '../core/workbench/workbench';
import { hexDump } from '../core/payload';
import { TrafficList, trafficRow } from '../core/traffic/trafficList';
import { TrafficRates } from '../core/traffic/trafficRates';
import type { HostMessage, ViewMessage } from '../core/traffic/messages';
import type { CaptureCommands } from './captureCommands';
import type { Command } from './commandRegistry';
import { Disposable, toDisposable } from './dispose';

export const TRAFFIC_VIEW_ID = 'udpWorkbench.traffic';
/** At most this many updates a second reach the webview, however many datagrams arrive. */
const UPDATE_MS = 100;
/** Rows the list asks for before it says how tall it is. */
const FIRST_WINDOW = 50;
/** The whole datagram, up to the largest UDP payload: the detail pane is one datagram. */
const DETAIL_BYTES = 65_535;

/** What the view last showed, for tests and other extensions. */
export interface TrafficViewState {
  readonly visible: boolean;
  readonly updates: number;
  readonly last: Extract<HostMessage, { type: 'update' }> | undefined;
}

/**
 * The "UDP Traffic" panel: the capture buffer as a packet list with a filter, and per-second charts. The host
 * keeps the model (the list holds only the rows in view) and sends at most one update every UPDATE_MS.
 */
export class TrafficView extends Disposable implements vscode.WebviewViewProvider {
  readonly commands: readonly Command[] = [{ id: 'udpWorkbench.showTraffic', execute: () => this.show() }];
  private readonly list: TrafficList;
  private readonly rates = new TrafficRates();
  private view: vscode.WebviewView | undefined;
  private viewSubscriptions: vscode.Disposable[] = [];
  /** The rows in view: by index, and by the number of the datagram at the top, which the list holds on to. */
  private windowAt: { first: number; count: number; anchor?: number } = { first: 0, count: FIRST_WINDOW };
  private filterText = '';
  private paused = false;
  private follow = true;
  private dirty = true;
  private updates = 0;
  private last: Extract<HostMessage, { type: 'update' }> | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    workbench: Workbench,
    private readonly captures: CaptureCommands,
  ) {
    super();
    this.list = new TrafficList(captures.buffer);
    captures.onRecord = (datagram) => {
      this.rates.addDatagram(datagram);
      this.dirty = true;
    };
    this._register(toDisposable(() => (this.captures.onRecord = undefined)));
    this._register(
      workbench.events.subscribe((event) => {
        this.rates.addEvent(event);
        this.dirty = true;
      }),
    );
    const timer = setInterval(() => this.tick(), UPDATE_MS);
    this._register(toDisposable(() => clearInterval(timer)));
    this._register(toDisposable(() => this.disposeView()));
    this._register(vscode.window.registerWebviewViewProvider(TRAFFIC_VIEW_ID, this));
  }

  get state(): TrafficViewState {
    return { visible: this.view?.visible ?? false, updates: this.updates, last: this.last };
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    const dist = vscode.Uri.joinPath(this.extensionUri, 'dist');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist] };
    view.webview.html = html(view.webview, dist);
    this.viewSubscriptions = [
      view.webview.onDidReceiveMessage((message: ViewMessage) => this.receive(message)),
      view.onDidChangeVisibility(() => (this.dirty = true)),
      view.onDidDispose(() => {
        if (this.view === view) this.view = undefined;
      }),
    ];
  }

  /** Opens the panel and brings the view to the front; like Show Log, it does not wait for the window to draw it. */
  show(): void {
    void vscode.commands.executeCommand(`${TRAFFIC_VIEW_ID}.focus`);
  }

  private receive(message: ViewMessage): void {
    switch (message.type) {
      case 'ready':
        break;
      case 'window':
        this.windowAt = { first: message.first, count: message.count, anchor: message.anchor };
        this.post(this.update());
        return;
      case 'filter':
        this.captures.flush();
        this.filterText = message.text;
        this.list.setFilter(message.text);
        break;
      case 'select':
        this.select(message.n);
        return;
      case 'pause':
        this.paused = message.paused;
        break;
      case 'follow':
        this.follow = message.follow;
        break;
      case 'clear':
        // Numbering starts again at 0: the old numbers name other datagrams now.
        this.windowAt = { first: 0, count: this.windowAt.count };
        this.captures.buffer.clear();
        this.list.forget();
        this.rates.clear();
        break;
    }
    this.dirty = true;
    this.post(this.update());
  }

  private select(n: number): void {
    const datagram = this.captures.buffer.at(n);
    if (datagram === undefined) {
      this.post({ type: 'detail-gone', n });
      return;
    }
    this.post({
      type: 'detail',
      row: trafficRow(n, datagram, this.captures.buffer.idOf(n)),
      hexDump: hexDump(datagram.payload, DETAIL_BYTES),
      exchange: this.list.exchangeOf(n),
    });
  }

  private tick(): void {
    if (!this.dirty || this.paused || this.view?.visible !== true) return;
    this.post(this.update());
  }

  /** The totals, the rows in view and the charts. Paused, the view gets one only when it asks (scrolls, filters). */
  private update(): Extract<HostMessage, { type: 'update' }> {
    this.captures.flush();
    this.list.update();
    const matched = this.list.matched;
    const { count, anchor } = this.windowAt;
    // Not following, the view stays on the datagrams it shows: their index drops as the buffer lets older ones go.
    const first = this.follow ? matched - count : anchor !== undefined ? this.list.indexOf(anchor) : this.windowAt.first;
    const { first: start, rows } = this.list.window(first, count);
    this.windowAt = { first: start, count, anchor: rows[0]?.n };
    const buffer = this.captures.buffer;
    const totals = this.rates.totals;
    this.dirty = false;
    return {
      type: 'update',
      totals: { in: totals.in, out: totals.out, kept: buffer.size, notKept: buffer.notKept, capacity: buffer.capacity },
      matched,
      first: start,
      rows,
      charts: this.rates.charts(Date.now()),
      paused: this.paused,
      follow: this.follow,
      filter: this.filterText,
      filterError: this.list.filterError,
    };
  }

  private post(message: HostMessage): void {
    if (message.type === 'update') {
      this.last = message;
      this.updates++;
    }
    void this.view?.webview.postMessage(message);
  }

  private disposeView(): void {
    for (const subscription of this.viewSubscriptions) subscription.dispose();
    this.viewSubscriptions = [];
  }
}

/** The page: our bundle's script and styles only, nothing remote, nothing inline but the nonce'd script tag. */
function html(webview: vscode.Webview, dist: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js'));
  const styles = webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css'));
  const csp = [
    `default-src 'none'`,
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  // l10n-ignore: markup; its one text, the title, goes through l10n.t (the webview script itself is English)
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${styles}">
<title>${vscode.l10n.t('UDP Traffic')}</title>
</head>
<body>
<script nonce="${nonce}" src="${script}"></script>
</body>
</html>`;
}
