import * as assert from 'node:assert/strict';
import { EchoServer } from '../../src/core/server/echoServer';
import { describeEvent } from '../../src/core/log/eventText';
import type { ServerConfiguredEvent, WorkbenchEvent } from '../../src/core/events';
import { NO_SIMULATION } from '../../src/core/impairment/impairment';

const TEXT = { previewBytes: 64, hexDump: 'auto' } as const;

describe('live changes to a running server', () => {
  let server: EchoServer;
  let events: WorkbenchEvent[];

  beforeEach(async () => {
    events = [];
    server = await EchoServer.start({ host: '127.0.0.1', port: 0, emit: (event) => events.push(event) });
    events.length = 0;
  });
  afterEach(() => server.stop());

  /** The one event the last change emitted, and its log line. */
  function announced(): { event: ServerConfiguredEvent; line: string } {
    assert.deepEqual(
      events.map((event) => event.kind),
      ['server-configured'],
    );
    const event = events[0] as ServerConfiguredEvent;
    events.length = 0;
    assert.equal(event.serverId, server.id);
    return { event, line: describeEvent(event, TEXT).text };
  }

  it('announces each new reply mode and template once, as it happens, with no traffic', () => {
    server.setReply('none');
    const none = announced();
    assert.deepEqual(none.event.configuration, { change: 'reply', replyMode: 'none', template: undefined });
    assert.equal(none.line, `[${server.id}] replies: none (listening only)`);
    server.setReply('template', 'Data received: ${text}');
    assert.equal(announced().line, `[${server.id}] replies: template "Data received: \${text}"`);
    server.setReply('mirror');
    assert.equal(announced().line, `[${server.id}] replies: mirror`);
  });

  it('announces a new simulation and a new rate limit once each', () => {
    server.configureSimulation({ ...NO_SIMULATION, dropInbound: 0.1, seed: 7 });
    const simulation = announced();
    assert.deepEqual(simulation.event.configuration, { change: 'simulation', simulation: server.simulation });
    assert.equal(simulation.line, `[${server.id}] simulation: 10% lost in (seed 7)`);
    server.configureProtection({ perSecond: 50, burst: 100, exemptLoopback: false }, true);
    assert.equal(announced().line, `[${server.id}] rate limit 50/s per peer, bursts of 100; amplification guard off`);
    assert.deepEqual(server.protection, { rateLimit: { perSecond: 50, burst: 100, exemptLoopback: false }, allowAmplification: true });
    server.configureProtection(false, false);
    assert.equal(announced().line, `[${server.id}] no rate limit; amplification guard on`);
  });

  it('announces nothing when a change is refused, and keeps the old settings', () => {
    assert.throws(() => server.setReply('template', 'bad ${oops}'), /not a placeholder/);
    assert.deepEqual(events, []);
    assert.equal(server.replyMode, 'mirror');
  });
});
