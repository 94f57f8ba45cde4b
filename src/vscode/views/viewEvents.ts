// What the views listen for in the workbench's events. No `vscode` import on purpose: the benchmark hangs the same
// listeners on a workbench in plain Node (bench/shippedViews.ts), so what it measures is what the views do.
import type { WorkbenchEvent } from '../../core/events';

/**
 * The context keys the Get Started walkthrough's steps complete on (`onContext:` in package.json), each set when its
 * step really happened in this window: VS Code then remembers the step as done.
 */
export const WALKTHROUGH_KEYS = {
  serverStarted: 'udpWorkbench.walkthrough.serverStarted',
  datagramAnswered: 'udpWorkbench.walkthrough.datagramAnswered',
  dropSeen: 'udpWorkbench.walkthrough.dropSeen',
  blockRun: 'udpWorkbench.walkthrough.blockRun',
} as const;

export type WalkthroughStep = keyof typeof WALKTHROUGH_KEYS;

/** Which step an event completes: a server bound, a reply came back, the simulation dropped a datagram. */
export function walkthroughStepOf(event: WorkbenchEvent): WalkthroughStep | undefined {
  switch (event.kind) {
    case 'server-started':
      return 'serverStarted';
    case 'reply':
      return 'datagramAnswered';
    case 'dropped':
      return event.reason === 'simulated-loss-inbound' || event.reason === 'simulated-loss-outbound' ? 'dropSeen' : undefined;
    default:
      return undefined;
  }
}

/** Servers and proxies coming and going, or new settings: the Servers view shows these at once, datagrams a few times a second. */
export function isServerListChange(event: WorkbenchEvent): boolean {
  switch (event.kind) {
    case 'server-started':
    case 'server-stopped':
    case 'server-configured':
    case 'proxy-started':
    case 'proxy-stopped':
    case 'proxy-configured':
      return true;
    default:
      return false;
  }
}
