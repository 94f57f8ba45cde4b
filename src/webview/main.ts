// The "UDP Traffic" view in its browser frame: draws what the host sends (src/core/traffic/messages.ts), asks for the rows
// it can show, and sends what the user does. No Node, no vscode: only the DOM, uPlot and the shared messages.
import 'uplot/dist/uPlot.min.css';
import './traffic.css';
import type { HostMessage, TrafficRow, ViewMessage } from '../core/traffic/messages';
import { TrafficChartPanel } from './charts';

interface VsCodeApi {
  postMessage(message: ViewMessage): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const ROW_HEIGHT = 20;
const HINT = 'Select a datagram to see its bytes and the exchange it belongs to.';
const vscode = acquireVsCodeApi();
const post = (message: ViewMessage): void => vscode.postMessage(message);

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; id?: string } = {},
  ...children: Node[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.id) node.id = props.id;
  if (props.text !== undefined) node.textContent = props.text;
  node.append(...children);
  return node;
}

const filter = element('input', { id: 'filter' });
filter.type = 'search';
filter.placeholder = 'Filter: in, out, dropped, timed-out, port:9000, peer:10.0.0.7, hex:dead, "text"';
filter.setAttribute('aria-label', 'Filter datagrams');
const pause = element('button', { id: 'pause', text: 'Pause' });
const clear = element('button', { id: 'clear', text: 'Clear' });
const follow = element('input', { id: 'follow' });
follow.type = 'checkbox';
follow.checked = true;
const status = element('span', { id: 'status' });
const filterError = element('div', { id: 'filter-error' });
const toolbar = element(
  'div',
  { id: 'toolbar' },
  filter,
  pause,
  clear,
  element('label', {}, follow, document.createTextNode(' Follow')),
  status,
);

const chartsBox = element('div', { id: 'charts' });
const header = element(
  'div',
  { className: 'row header' },
  ...['Time', '', 'Local', 'Peer', 'Size', 'Fate', 'Data'].map((text) => element('span', { text })),
);
const rowsBox = element('div', { id: 'rows' });
const spacer = element('div', { id: 'spacer' }, rowsBox);
const scroller = element('div', { id: 'scroller' }, spacer);
const list = element('div', { id: 'list' }, header, scroller);
const detail = element('div', { id: 'detail' }, element('p', { className: 'hint', text: HINT }));
document.body.append(toolbar, filterError, chartsBox, element('div', { id: 'main' }, list, detail));

const charts = new TrafficChartPanel(chartsBox);
let selected: number | undefined;
let following = true;
let programmaticScroll = false;
/** The rows drawn, and the index among the matched of the first. */
let shown: { first: number; rows: readonly TrafficRow[] } = { first: 0, rows: [] };
/** With Follow off: the datagram at the top of the list and how far it is scrolled past, kept as older ones go. */
let top: { n: number; offset: number } | undefined;

function rowElement(row: TrafficRow, onClick: () => void): HTMLElement {
  const cells = [row.time, row.direction === 'in' ? '→ in' : '← out', row.local, row.peer, String(row.size), fateText(row), row.preview];
  const line = element(
    'div',
    { className: `row fate-${row.fate}${row.n === selected ? ' selected' : ''}` },
    ...cells.map((text) => element('span', { text })),
  );
  line.dataset.n = String(row.n);
  line.title = row.note;
  line.addEventListener('click', onClick);
  return line;
}

/** The fate, and the note when it says more ("dropped by simulation (loss on the way in)" says both). */
function fateText(row: TrafficRow): string {
  if (row.note === '') return row.fate;
  return row.note.startsWith(row.fate) ? row.note : `${row.fate} · ${row.note}`;
}

function select(n: number): void {
  selected = n;
  for (const line of rowsBox.children) (line as HTMLElement).classList.toggle('selected', (line as HTMLElement).dataset.n === String(n));
  post({ type: 'select', n });
}

function showUpdate(message: Extract<HostMessage, { type: 'update' }>): void {
  const { totals } = message;
  status.textContent =
    // Counts after their nouns need no plural: "Datagrams: 1" reads as well as "Datagrams: 1,000".
    `Datagrams: ${(totals.in + totals.out).toLocaleString('en-US')} (${totals.in.toLocaleString('en-US')} in, ${totals.out.toLocaleString('en-US')} out)` +
    ` · shown: ${message.matched.toLocaleString('en-US')}` +
    (totals.notKept > 0
      ? ` · not kept: ${totals.notKept.toLocaleString('en-US')} (the buffer holds ${totals.capacity.toLocaleString('en-US')})`
      : '') +
    (message.paused ? ' · paused' : '');
  status.dataset.in = String(totals.in);
  status.dataset.out = String(totals.out);
  status.dataset.kept = String(totals.kept);
  status.dataset.notKept = String(totals.notKept);
  status.dataset.matched = String(message.matched);
  if (document.activeElement !== filter && filter.value !== message.filter) filter.value = message.filter;
  filterError.textContent = message.filterError ?? '';
  pause.textContent = message.paused ? 'Resume' : 'Pause';
  pause.setAttribute('aria-pressed', String(message.paused));
  following = message.follow;
  follow.checked = message.follow;
  spacer.style.height = `${message.matched * ROW_HEIGHT}px`;
  rowsBox.style.transform = `translateY(${message.first * ROW_HEIGHT}px)`;
  rowsBox.replaceChildren(...message.rows.map((row) => rowElement(row, () => select(row.n))));
  shown = { first: message.first, rows: message.rows };
  if (following) {
    scrollTo(scroller.scrollHeight);
  } else {
    // The same datagram stays at the top: its index among the matched moved, so the scroll position follows it.
    const at = top === undefined ? -1 : message.rows.findIndex((row) => row.n === top!.n);
    if (top !== undefined && at !== -1) scrollTo((message.first + at) * ROW_HEIGHT + top.offset);
    top = topRow();
  }
  charts.show(message.charts);
}

/** The datagram drawn at the top of the list, if it is drawn. */
function topRow(): { n: number; offset: number } | undefined {
  const first = Math.floor(scroller.scrollTop / ROW_HEIGHT);
  const n = shown.rows[first - shown.first]?.n;
  return n === undefined ? undefined : { n, offset: scroller.scrollTop - first * ROW_HEIGHT };
}

/** Scrolls without taking it for the user's scroll; a position it already has fires no scroll event. */
function scrollTo(scrollTop: number): void {
  const before = scroller.scrollTop;
  scroller.scrollTop = scrollTop;
  if (scroller.scrollTop !== before) programmaticScroll = true;
}

function showDetail(message: Extract<HostMessage, { type: 'detail' }>): void {
  const { row } = message;
  // An answer to an earlier click, or to one before Clear: the numbers then named other datagrams.
  if (row.n !== selected) return;
  const title = element('h3', {
    text: `#${row.n + 1} ${row.direction === 'in' ? 'from' : 'to'} ${row.peer} (local ${row.local}), ${row.size} B, ${row.fate}`,
  });
  const note = element('p', { className: 'note', text: row.note });
  const hex = element('pre', { id: 'hexdump', text: message.hexDump.join('\n') });
  const exchange = element(
    'div',
    { id: 'exchange' },
    element('h4', { text: 'Exchange' }),
    ...message.exchange.map((other) => rowElement(other, () => select(other.n))),
  );
  detail.replaceChildren(title, note, hex, exchange);
}

let windowQueued = false;
function requestWindow(): void {
  if (windowQueued) return;
  windowQueued = true;
  requestAnimationFrame(() => {
    windowQueued = false;
    top = following ? undefined : topRow();
    post({
      type: 'window',
      first: Math.floor(scroller.scrollTop / ROW_HEIGHT),
      count: Math.ceil(scroller.clientHeight / ROW_HEIGHT) + 2,
      anchor: top?.n,
    });
  });
}

scroller.addEventListener('scroll', () => {
  if (programmaticScroll) {
    programmaticScroll = false;
    return;
  }
  const atBottom = scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - ROW_HEIGHT;
  if (following !== atBottom) {
    following = atBottom;
    follow.checked = atBottom;
    post({ type: 'follow', follow: atBottom });
  }
  requestWindow();
});
new ResizeObserver(requestWindow).observe(scroller);
let filterTimer: ReturnType<typeof setTimeout> | undefined;
filter.addEventListener('input', () => {
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => post({ type: 'filter', text: filter.value }), 150);
});
pause.addEventListener('click', () => post({ type: 'pause', paused: pause.textContent === 'Pause' }));
clear.addEventListener('click', () => {
  selected = undefined;
  top = undefined;
  detail.replaceChildren(element('p', { className: 'hint', text: HINT }));
  post({ type: 'clear' });
});
follow.addEventListener('change', () => {
  following = follow.checked;
  post({ type: 'follow', follow: follow.checked });
});

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const message = event.data;
  if (message.type === 'update') showUpdate(message);
  else if (message.type === 'detail') showDetail(message);
  else if (message.n === selected) {
    detail.replaceChildren(element('p', { className: 'hint', text: 'That datagram is no longer in the buffer.' }));
  }
});
post({ type: 'ready' });
requestWindow();
