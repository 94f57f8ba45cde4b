// Multicast and broadcast across real hosts: three network namespaces on one bridge (see netns.ts NamespaceSegment),
// host 0 sending, hosts 1 and 2 listening, each driven through the fixture fixtures/netnsGroup.ts.
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { JsonLineFixture } from './jsonLineFixture';
import type { GroupCommand, Received, Sent } from './fixtures/netnsGroup';
import { NamespaceSegment, requireNamespaces, type Host } from './netns';

const FIXTURE = path.join(__dirname, 'fixtures', 'netnsGroup.js');
const GROUP = '239.78.0.1';

/** One host's fixture: each command written as a JSON line is answered by one JSON line. */
class GroupHost extends JsonLineFixture<GroupCommand, { ok?: boolean; error?: { code: string; message: string } }> {
  constructor(
    readonly host: Host,
    child: ChildProcess,
  ) {
    super(child, host.namespace);
  }

  async listen(
    id: string,
    port: number,
    groups: GroupCommand & { do: 'listen' } extends { groups: infer G } ? G : never,
    host = '0.0.0.0',
  ) {
    return this.ask<{ port?: number; error?: { code: string; message: string } }>({ do: 'listen', id, host, port, groups });
  }

  send(target: string, payload: string, group: (GroupCommand & { do: 'send' })['group'] = {}, timeoutMs = 500): Promise<Sent> {
    return this.ask<Sent>({ do: 'send', target, payload, group, timeoutMs });
  }

  received(): Promise<Received> {
    return this.ask<Received>({ do: 'received' });
  }
}

describe('Multicast and broadcast across hosts (three network namespaces on a bridge)', function () {
  this.timeout(60_000);
  let segment: NamespaceSegment | undefined;
  let sender: GroupHost;
  let first: GroupHost;
  let second: GroupHost;

  before(async function () {
    requireNamespaces(this);
    segment = NamespaceSegment.create(3);
    const hosts = segment.hosts.map((host) => new GroupHost(host, segment!.spawn(host, process.execPath, [FIXTURE])));
    await Promise.all(hosts.map((host) => host.read()));
    [sender, first, second] = hosts;
  });

  after(async () => {
    await Promise.all([sender, first, second].filter(Boolean).map((host) => host.close()));
    segment?.destroy();
  });

  it('every listener receives each datagram once, and the sender counts each of them answering', async () => {
    assert.deepEqual(await first.listen('a', 5001, [{ group: GROUP, interface: first.host.iface }]), { port: 5001 });
    // Without an interface, the join follows the host's multicast route.
    assert.deepEqual(await second.listen('a', 5001, [{ group: GROUP }]), { port: 5001 });
    for (const payload of ['one', 'two', 'three']) {
      const sent = await sender.send(`${GROUP}:5001`, payload);
      assert.equal(sent.outcome, 'reply', JSON.stringify(sent));
      assert.equal(sent.peers, 2);
      assert.deepEqual(sent.replies, [`${first.host.ipv4} ${payload}`, `${second.host.ipv4} ${payload}`]);
    }
    assert.deepEqual((await first.received()).listeners.a, ['one', 'two', 'three']);
    assert.deepEqual((await second.received()).listeners.a, ['one', 'two', 'three']);
  });

  it('leaving the group on stop ends delivery to the host', async () => {
    // A group of its own: a membership is the host's, and the first test's listeners are still in theirs.
    const group = '239.78.0.2';
    await first.listen('b', 5002, [{ group }]);
    // A plain socket on the port hears the group only while a socket of its host is a member (IP_MULTICAST_ALL).
    await first.ask({ do: 'observe', port: 5002 });
    assert.equal((await sender.send(`${group}:5002`, 'joined')).peers, 1);
    assert.deepEqual(await first.received(), { listeners: { a: [], b: ['joined'] }, observer: ['joined'] });
    await first.ask({ do: 'unlisten', id: 'b' });
    assert.equal((await sender.send(`${group}:5002`, 'left')).outcome, 'timeout');
    assert.deepEqual(await first.received(), { listeners: { a: [], b: [] }, observer: [] });
  });

  it('source-specific membership delivers only what its source sends', async () => {
    await first.listen('c', 5003, [{ group: '232.78.0.1', source: sender.host.ipv4 }]);
    await second.listen('c', 5003, [{ group: '232.78.0.1', source: '10.78.0.99' }]);
    const sent = await sender.send('232.78.0.1:5003', 'ssm');
    assert.deepEqual(sent.replies, [`${first.host.ipv4} ssm`]);
    assert.deepEqual((await first.received()).listeners.c, ['ssm']);
    assert.deepEqual((await second.received()).listeners.c, []);

    // IPv6 too, in the source-specific range ff3x::.
    const group = 'ff35::7801';
    await first.listen('c6', 5013, [{ group, interface: first.host.iface, source: sender.host.ipv6 }], '::');
    await second.listen('c6', 5013, [{ group, interface: second.host.iface, source: 'fd78::99' }], '::');
    const sent6 = await sender.send(`[${group}]:5013`, 'ssm6', { interface: sender.host.iface });
    assert.deepEqual(sent6.replies, [`${first.host.ipv6} ssm6`], JSON.stringify(sent6));
    assert.deepEqual((await second.received()).listeners.c6, []);
  });

  it('TTL 0 keeps a datagram on the sending host; loopback off keeps it off the sending host', async () => {
    await sender.listen('local', 5004, [{ group: GROUP }]);
    await first.listen('d', 5004, [{ group: GROUP }]);
    const heard = async (): Promise<string[]> => [...(await sender.received()).listeners.local, ...(await first.received()).listeners.d];

    assert.deepEqual((await sender.send(`${GROUP}:5004`, 'ttl0', { ttl: 0 })).replies, [`${sender.host.ipv4} ttl0`]);
    assert.deepEqual(await heard(), ['ttl0']);
    assert.deepEqual((await sender.send(`${GROUP}:5004`, 'quiet', { ttl: 1, loopback: false })).replies, [`${first.host.ipv4} quiet`]);
    assert.deepEqual(await heard(), ['quiet']);
    assert.equal((await sender.send(`${GROUP}:5004`, 'both', { ttl: 1, loopback: true })).peers, 2);
    assert.deepEqual(await heard(), ['both', 'both']);
    await sender.ask({ do: 'unlisten', id: 'local' });
  });

  it('IPv6: a link-local group named with its interface reaches every listener; without one, the send says what is missing', async () => {
    await first.listen('e', 5005, [{ group: `ff02::7801%${first.host.iface}` }], '::');
    await second.listen('e', 5005, [{ group: 'ff02::7801', interface: second.host.iface }], '::');
    const sent = await sender.send(`[ff02::7801%${sender.host.iface}]:5005`, 'six');
    assert.equal(sent.peers, 2, JSON.stringify(sent));
    assert.equal((await sender.send('[ff02::7801]:5005', 'six')).error?.code, 'SCOPE_ID_MISSING');
    const viaHeader = await sender.send('[ff02::7801]:5005', 'six', { interface: sender.host.iface });
    assert.equal(viaHeader.peers, 2);
  });

  it('broadcast reaches every listener on the segment, and only once allowed', async () => {
    await first.listen('f', 5006, []);
    await second.listen('f', 5006, []);
    const refused = await sender.send('10.78.0.255:5006', 'everyone');
    assert.equal(refused.error?.code, 'BROADCAST_NOT_ALLOWED');
    assert.match(refused.error!.message, /@broadcast on/);
    const sent = await sender.send('10.78.0.255:5006', 'everyone', { broadcast: true });
    assert.deepEqual(sent.replies, [`${first.host.ipv4} everyone`, `${second.host.ipv4} everyone`]);
  });

  it('joining on an interface that does not exist names those that do', async () => {
    const joined = await first.listen('g', 5007, [{ group: GROUP, interface: 'nope0' }]);
    assert.equal(joined.error?.code, 'UNKNOWN_INTERFACE');
    assert.match(joined.error!.message, new RegExp(first.host.iface));
  });

  it('without a multicast route the send says so and how to fix it; naming the interface fixes it', async () => {
    await first.listen('h', 5008, [{ group: GROUP }]);
    segment!.removeMulticastRoute(sender.host);
    const unroutable = await sender.send(`${GROUP}:5008`, 'lost');
    assert.equal(unroutable.error?.code, 'NO_MULTICAST_ROUTE', JSON.stringify(unroutable));
    assert.match(unroutable.error!.message, /@interface/);
    assert.equal((await sender.send(`${GROUP}:5008`, 'found', { interface: sender.host.iface })).peers, 1);
  });
});
