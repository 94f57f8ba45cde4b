import uPlot from 'uplot';
import type { TrafficCharts } from '../core/traffic/messages';

const HEIGHT = 110;

/** A theme colour from VS Code's CSS variables, so the charts follow light, dark and high-contrast themes. */
function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

interface ChartSpec {
  readonly title: string;
  /** 'ms' for round trips: a second with replies is often alone, so its points are drawn. */
  readonly unit: string;
  readonly series: ReadonlyArray<{ label: string; colour: string; pick: (charts: TrafficCharts) => Array<number | null> }>;
}

/** The three live charts above the list: datagrams a second, loss a second, round-trip percentiles. */
export class TrafficChartPanel {
  private readonly charts: Array<{ plot: uPlot; spec: ChartSpec; box: HTMLElement }> = [];

  constructor(container: HTMLElement) {
    const specs: ChartSpec[] = [
      {
        title: 'Datagrams / s',
        unit: '',
        series: [
          { label: 'in', colour: themeColour('--vscode-charts-blue', '#3794ff'), pick: (c) => c.in },
          { label: 'out', colour: themeColour('--vscode-charts-green', '#89d185'), pick: (c) => c.out },
        ],
      },
      {
        title: 'Loss / s',
        unit: '',
        series: [
          { label: 'simulated', colour: themeColour('--vscode-charts-orange', '#d18616'), pick: (c) => c.simulatedLoss },
          { label: 'timed out', colour: themeColour('--vscode-charts-red', '#f14c4c'), pick: (c) => c.timeouts },
        ],
      },
      {
        title: 'Round trip (ms)',
        unit: 'ms',
        series: [
          { label: 'p50', colour: themeColour('--vscode-charts-purple', '#b180d7'), pick: (c) => c.rttP50 },
          { label: 'p99', colour: themeColour('--vscode-charts-yellow', '#cca700'), pick: (c) => c.rttP99 },
        ],
      },
    ];
    const foreground = themeColour('--vscode-foreground', '#cccccc');
    const grid = themeColour('--vscode-editorWidget-border', '#454545');
    for (const spec of specs) {
      const box = document.createElement('div');
      box.className = 'chart';
      box.dataset.chart = spec.title;
      container.append(box);
      const axis = { stroke: foreground, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
      // Times of day only, far enough apart not to touch; the y axis as wide as its longest label (10,000 fits).
      const xAxis = { ...axis, space: 70, values: (_u: uPlot, splits: number[]) => splits.map(timeOfDay) };
      const yAxis = { ...axis, size: fitLabels };
      const plot = new uPlot(
        {
          title: spec.title,
          width: 300,
          height: HEIGHT,
          legend: { show: true, live: false },
          cursor: { drag: { x: false, y: false } },
          scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max ?? min)] } },
          axes: [xAxis, yAxis],
          series: [
            {},
            ...spec.series.map((s) => ({
              label: s.label,
              stroke: s.colour,
              width: 1.5,
              spanGaps: false,
              points: { show: spec.unit === 'ms', size: 5 },
            })),
          ],
        },
        [[], ...spec.series.map(() => [])],
        box,
      );
      this.charts.push({ plot, spec, box });
    }
    new ResizeObserver(() => this.resize()).observe(container);
  }

  show(data: TrafficCharts): void {
    for (const { plot, spec, box } of this.charts) {
      const columns = spec.series.map((s) => s.pick(data));
      plot.setData([data.seconds, ...columns]);
      // What the chart draws, readable without its canvas (tests, screen readers' descriptions).
      box.dataset.points = String(data.seconds.length);
      spec.series.forEach((s, i) => (box.dataset[camel(s.label)] = String(columns[i].reduce<number>((sum, v) => sum + (v ?? 0), 0))));
      box.setAttribute(
        'aria-label',
        `${spec.title}: ${spec.series.map((s) => `${s.label} ${box.dataset[camel(s.label)]} over ${data.seconds.length} s`).join(', ')}`,
      );
      box.setAttribute('role', 'img');
    }
  }

  private resize(): void {
    for (const { plot, box } of this.charts) plot.setSize({ width: Math.max(150, box.clientWidth), height: HEIGHT });
  }
}

/** `14:03:07`, local time, from Unix seconds. */
function timeOfDay(seconds: number): string {
  const at = new Date(seconds * 1000);
  return [at.getHours(), at.getMinutes(), at.getSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
}

/** An axis's width: its ticks and gap, and its longest label as the canvas draws it. */
function fitLabels(plot: uPlot, values: string[] | null, axisIndex: number): number {
  const axis = plot.axes[axisIndex];
  const longest = (values ?? []).reduce((found, value) => (value.length > found.length ? value : found), '');
  // Once set up, uPlot keeps an axis's font as [css font, size], though its type says a string.
  const font = (axis.font as unknown as readonly [string, number] | undefined)?.[0];
  if (font !== undefined) plot.ctx.font = font;
  const width = (axis.ticks?.size ?? 10) + (axis.gap ?? 5) + plot.ctx.measureText(longest).width / devicePixelRatio;
  return Math.ceil(Math.max(30, width)) + 4;
}

/** `timed out` → `timedOut`, a dataset key. */
function camel(label: string): string {
  return label.replace(/ (\w)/g, (_, c: string) => c.toUpperCase());
}
