import * as assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import type { WorkbenchEvent } from '../../src/core/events';
import { Workbench } from '../../src/core/workbench/workbench';
import { socketsOn } from './sockets';

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.once('error', () => resolve(false));
    socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
  });
}

describe('Workbench', () => {
  it('runs several servers, counts what they and the sender did, and keeps counting after a stop', async () => {
    const workbench = new Workbench();
    const kinds: string[] = [];
    workbench.events.subscribe((event: WorkbenchEvent) => kinds.push(event.kind));
    const a = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const b = await workbench.startServer({ host: '::1', port: 0 });
    assert.deepEqual(workbench.runningServers, [a, b]);
    const result = await workbench.send({
      target: { host: '127.0.0.1', port: a.local.port },
      payload: Buffer.from('hi'),
      timeoutMs: 1000,
      retries: 0,
      backoff: 1,
    });
    assert.equal(result.outcome, 'reply');
    assert.equal(await workbench.stopServer(a.id), true);
    assert.equal(await workbench.stopServer(a.id), false);
    assert.deepEqual(workbench.totals, {
      server: { received: 1, replies: 1, dropped: 0, kernelDropped: 0 },
      client: { sent: 1, replies: 1, timeouts: 0, gaveUp: 0, failures: 0 },
      proxy: { received: 0, forwarded: 0, dropped: 0 },
    });
    assert.equal(workbench.roundTrips.count, 1);
    assert.deepEqual(kinds, ['server-started', 'server-started', 'sent', 'received', 'replied', 'reply', 'server-stopped']);
    await workbench.dispose();
  });

  it('hands out totals as a snapshot: later datagrams do not change it, and changing it changes no count', async () => {
    const workbench = new Workbench();
    const server = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const before = workbench.totals;
    before.client.sent = 99;
    await workbench.send({
      target: { host: '127.0.0.1', port: server.local.port },
      payload: Buffer.from('hi'),
      timeoutMs: 1000,
      retries: 0,
      backoff: 1,
    });
    assert.equal(before.client.sent, 99);
    assert.equal(before.server.received, 0);
    assert.equal(workbench.totals.client.sent, 1);
    assert.equal(workbench.totals.server.received, 1);
    await workbench.dispose();
  });

  it('no longer lists a server whose socket was closed from outside', async () => {
    const workbench = new Workbench();
    const kinds: string[] = [];
    workbench.events.subscribe((event: WorkbenchEvent) => kinds.push(event.kind));
    const server = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const [socket] = socketsOn(server.local.port);
    socket.close();
    for (let waited = 0; workbench.runningServers.length > 0 && waited < 2000; waited += 10) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.deepEqual(workbench.runningServers, []);
    assert.deepEqual(kinds, ['server-started', 'server-error', 'server-stopped']);
    await workbench.dispose();
  });

  it('closes every server and cancels sends in flight on dispose, leaving the ports free', async () => {
    const workbench = new Workbench();
    const server = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const waiting = workbench.send({
      target: { host: '127.0.0.1', port: silent.address().port },
      payload: Buffer.from('x'),
      timeoutMs: 60_000,
      retries: 0,
      backoff: 1,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await workbench.dispose();
    await assert.rejects(waiting, { code: 'CANCELLED' });
    assert.equal(workbench.runningServers.length, 0);
    assert.equal(await bindable(server.local.port), true);
    await assert.rejects(workbench.startServer({ host: '127.0.0.1', port: 0 }), /shut down/);
    await workbench.dispose();
    silent.close();
  });

  it('runs proxies beside servers: forwards through one, counts it, and stops them all on dispose', async () => {
    const workbench = new Workbench();
    const server = await workbench.startServer({ host: '127.0.0.1', port: 0 });
    const proxy = await workbench.startProxy({ host: '127.0.0.1', port: 0, upstreamHost: '127.0.0.1', upstreamPort: server.local.port });
    assert.deepEqual(workbench.runningProxies, [proxy]);
    assert.equal(workbench.proxy(proxy.id), proxy);
    const result = await workbench.send({
      target: { host: '127.0.0.1', port: proxy.local.port },
      payload: Buffer.from('via'),
      timeoutMs: 1000,
      retries: 0,
      backoff: 1,
    });
    assert.equal(result.outcome, 'reply');
    assert.deepEqual(workbench.totals.proxy, { received: 2, forwarded: 2, dropped: 0 });
    const port = proxy.local.port;
    await workbench.dispose();
    assert.equal(proxy.running, false);
    assert.deepEqual(workbench.runningProxies, []);
    assert.equal(await bindable(port), true, 'the proxy port is free again');
  });
});
