import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkbenchEvent } from '../../src/core/events';
import { NO_SIMULATION } from '../../src/core/impairment/impairment';
import { parseSimulationSpec } from '../../src/core/impairment/simulationSpec';
import { Workbench } from '../../src/core/workbench/workbench';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The arguments of each `command:` link in a walkthrough step's description, by command. */
function stepLinks(step: string): Map<string, Record<string, unknown>> {
  const nls = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.nls.json'), 'utf8')) as Record<string, string>;
  const description = nls[`walkthrough.gettingStarted.${step}.description`];
  const links = new Map<string, Record<string, unknown>>();
  for (const [, command, query] of description.matchAll(/\(command:([\w.]+)(?:\?([^)]*))?\)/g)) {
    links.set(command, query === undefined ? {} : (JSON.parse(decodeURIComponent(query)) as Record<string, unknown>));
  }
  return links;
}

describe('The walkthrough', () => {
  it('loss step: its own two buttons drop a datagram on their first try, on a real server', async () => {
    const links = stepLinks('simulateLoss');
    const spec = String(links.get('udpWorkbench.configureSimulation')?.spec);
    const lines = Number(links.get('udpWorkbench.walkthrough.sendLines')?.count);
    assert.ok(lines >= 1 && lines <= 50, `the step sends ${lines} lines`);
    const workbench = new Workbench();
    const drops: WorkbenchEvent[] = [];
    workbench.events.subscribe((event) => event.kind === 'dropped' && drops.push(event));
    try {
      // A server as the first step starts it: no simulation, then the step's button turns on its loss.
      const server = await workbench.startServer({ host: '127.0.0.1', port: 0, replyMode: 'mirror' });
      server.configureSimulation(parseSimulationSpec(spec, NO_SIMULATION));
      // Each line once, as Send Selection sends them before any retry.
      const sends = Array.from({ length: lines }, (_, i) =>
        workbench.send({
          target: { host: '127.0.0.1', port: server.local.port },
          payload: Buffer.from(`hello, UDP #${i + 1}`),
          timeoutMs: 300,
          retries: 0,
          backoff: 1,
        }),
      );
      await Promise.allSettled(sends);
      assert.ok(drops.length > 0, `"${spec}" dropped none of ${lines} datagrams: the step would show nothing to watch`);
    } finally {
      await workbench.dispose();
    }
  });
});
