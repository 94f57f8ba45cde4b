import type { RecordedDatagram } from '../capture/captureBuffer';
import type { WorkbenchEvent } from '../events';
import { RoundTripStats } from '../stats';
import type { TrafficCharts } from './messages';

/** Seconds the charts show. */
export const CHART_SECONDS = 60;

interface Second {
  in: number;
  out: number;
  simulatedLoss: number;
  timeouts: number;
  rtt: RoundTripStats | undefined;
}

/**
 * The charts' numbers, one bucket a second for the last CHART_SECONDS: datagrams in and out (as recorded, so a
 * send to one of the workbench's own servers counts once, like its row), simulated loss and real timeouts
 * apart, and round-trip percentiles. Memory stays bounded whatever the rate.
 */
export class TrafficRates {
  private readonly seconds = new Map<number, Second>();
  private totalIn = 0;
  private totalOut = 0;

  addDatagram(datagram: Pick<RecordedDatagram, 'atMicros' | 'direction'>): void {
    const second = this.second(Math.floor(datagram.atMicros / 1e6));
    if (datagram.direction === 'in') {
      second.in++;
      this.totalIn++;
    } else {
      second.out++;
      this.totalOut++;
    }
  }

  /** Loss, timeouts and round trips come from the events: they leave no datagram of their own. */
  readonly addEvent = (event: WorkbenchEvent): void => {
    switch (event.kind) {
      case 'dropped':
        if (event.reason.startsWith('simulated-') || event.reason === 'rate-limited') {
          this.second(Math.floor(event.at / 1000)).simulatedLoss++;
        }
        break;
      case 'proxy-dropped':
        if (event.reason === 'simulated-loss' || event.reason === 'queue-full' || event.reason === 'rate-limited') {
          this.second(Math.floor(event.at / 1000)).simulatedLoss++;
        }
        break;
      case 'timeout':
        this.second(Math.floor(event.at / 1000)).timeouts++;
        break;
      case 'reply':
      case 'burst-reply': {
        if (event.rttMs === undefined) break;
        const second = this.second(Math.floor(event.at / 1000));
        (second.rtt ??= new RoundTripStats()).add(event.rttMs);
        break;
      }
    }
  };

  /** Datagrams in and out since the last clear. */
  get totals(): { in: number; out: number } {
    return { in: this.totalIn, out: this.totalOut };
  }

  /** The last CHART_SECONDS seconds up to `nowMs`, one point each, quiet seconds as zeros. */
  charts(nowMs: number): TrafficCharts {
    const last = Math.floor(nowMs / 1000);
    const charts = {
      seconds: [] as number[],
      in: [] as number[],
      out: [] as number[],
      simulatedLoss: [] as number[],
      timeouts: [] as number[],
      rttP50: [] as Array<number | null>,
      rttP99: [] as Array<number | null>,
    };
    for (let s = last - CHART_SECONDS + 1; s <= last; s++) {
      const second = this.seconds.get(s);
      charts.seconds.push(s);
      charts.in.push(second?.in ?? 0);
      charts.out.push(second?.out ?? 0);
      charts.simulatedLoss.push(second?.simulatedLoss ?? 0);
      charts.timeouts.push(second?.timeouts ?? 0);
      charts.rttP50.push(second?.rtt?.p50 ?? null);
      charts.rttP99.push(second?.rtt?.p99 ?? null);
    }
    return charts;
  }

  clear(): void {
    this.seconds.clear();
    this.totalIn = 0;
    this.totalOut = 0;
  }

  private second(s: number): Second {
    let second = this.seconds.get(s);
    if (second === undefined) {
      second = { in: 0, out: 0, simulatedLoss: 0, timeouts: 0, rtt: undefined };
      this.seconds.set(s, second);
      // Seconds arrive in order, give or take a clock step: forget the oldest beyond the window.
      for (const old of this.seconds.keys()) {
        if (old > s - CHART_SECONDS * 2) break;
        this.seconds.delete(old);
      }
    }
    return second;
  }
}
