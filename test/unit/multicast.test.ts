import * as assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describeEvent } from '../../src/core/log/eventText';
import { WorkbenchError } from '../../src/core/errors';
import { groupKind, interfaceFor, isMulticast, type InterfaceTable } from '../../src/core/net/groupAddress';
import { listenAddressFor, parseGroupSpec } from '../../src/core/net/groupMembership';
import { groupSendOptions } from '../../src/core/send/groupSend';
import { sendDatagram } from '../../src/core/send/client';
import { parseRequestFile } from '../../src/core/requests/requestFile';
import { sendRequestBlock, type BlockResult, type BlockSender } from '../../src/core/requests/requestRun';
import type { SendOptions } from '../../src/core/send/sendRequest';

function info(address: string, netmask: string, family: 'IPv4' | 'IPv6', internal = false): NetworkInterfaceInfo {
  const common = { address, netmask, mac: '00:00:00:00:00:00', internal, cidr: null };
  return family === 'IPv4' ? { ...common, family } : { ...common, family, scopeid: 0 };
}

/** A machine with a loopback, an Ethernet on 192.168.7.0/24 and an IPv6-only tunnel. */
const TABLE: InterfaceTable = {
  lo: [info('127.0.0.1', '255.0.0.0', 'IPv4', true), info('::1', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'IPv6', true)],
  eth0: [info('192.168.7.20', '255.255.255.0', 'IPv4'), info('fd00::20', 'ffff:ffff:ffff:ffff::', 'IPv6')],
  tun6: [info('fd01::1', 'ffff:ffff:ffff:ffff::', 'IPv6')],
};

function thrown(run: () => unknown): WorkbenchError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof WorkbenchError, String(error));
    return error;
  }
  assert.fail('expected a WorkbenchError');
}

const code = (run: () => unknown): string => thrown(run).code;

describe('Multicast addresses', () => {
  it('tells groups and broadcast addresses from the rest', () => {
    assert.ok(isMulticast('239.1.2.3') && isMulticast('224.0.0.251') && isMulticast('ff02::1234%lo') && isMulticast('ff05::c'));
    assert.ok(!isMulticast('10.0.0.1') && !isMulticast('fe80::1%eth0') && !isMulticast('example.com'));
    assert.equal(groupKind('239.255.255.250', TABLE), 'multicast');
    assert.equal(groupKind('255.255.255.255', TABLE), 'broadcast');
    assert.equal(groupKind('192.168.7.255', TABLE), 'broadcast', "eth0's network broadcast address");
    assert.equal(groupKind('192.168.8.255', TABLE), undefined, 'not a network of this machine');
    assert.equal(groupKind('127.255.255.255', TABLE), 'broadcast', "loopback's broadcast address, routed as one");
    assert.equal(groupKind('127.0.0.255', TABLE), undefined, 'inside 127.0.0.0/8, not its broadcast address');
    assert.equal(groupKind('192.168.7.20', TABLE), undefined);
  });

  it('turns an interface into what the socket takes, and names the ones there are when it does not exist', () => {
    assert.equal(interfaceFor('239.1.2.3', 'eth0', TABLE), '192.168.7.20');
    assert.equal(interfaceFor('239.1.2.3', '127.0.0.1', TABLE), '127.0.0.1');
    assert.equal(interfaceFor('239.1.2.3', undefined, TABLE), undefined);
    assert.equal(interfaceFor('ff02::1%eth0', undefined, TABLE), '::%eth0');
    assert.equal(interfaceFor('ff05::1', 'fd00::20', TABLE), '::%eth0');
    assert.equal(interfaceFor('ff05::1', undefined, TABLE), undefined, 'a site-local group needs no interface');
    assert.equal(
      code(() => interfaceFor('239.1.2.3', 'wlan0', TABLE)),
      'UNKNOWN_INTERFACE',
    );
    assert.equal(
      code(() => interfaceFor('239.1.2.3', 'tun6', TABLE)),
      'UNKNOWN_INTERFACE',
      'no IPv4 address there',
    );
    assert.equal(
      code(() => interfaceFor('ff02::1%wlan0', undefined, TABLE)),
      'UNKNOWN_INTERFACE',
    );
    assert.match(
      thrown(() => interfaceFor('239.1.2.3', 'wlan0', TABLE)).text,
      /no network interface "wlan0".*lo 127\.0\.0\.1, eth0 192\.168\.7\.20, tun6/,
    );
  });

  it('asks for the interface of a link-local or interface-local IPv6 group, saying how to write it', () => {
    assert.equal(
      code(() => interfaceFor('ff02::1234', undefined, TABLE)),
      'SCOPE_ID_MISSING',
    );
    assert.equal(
      code(() => interfaceFor('ff01::1', undefined, TABLE)),
      'SCOPE_ID_MISSING',
    );
    assert.match(thrown(() => interfaceFor('ff02::fb', undefined, TABLE)).text, /link-local.*\[ff02::fb%lo\]:5000/);
    assert.equal(interfaceFor('ff02::fb', 'eth0', TABLE), '::%eth0');
  });

  it('reads the groups to listen on as typed in the palette', () => {
    assert.deepEqual(parseGroupSpec('239.1.2.3:5000'), {
      groups: [{ group: '239.1.2.3', interface: undefined, source: undefined }],
      port: 5000,
    });
    assert.deepEqual(parseGroupSpec('239.1.2.3:1900, 239.1.2.4 on eth0 from 10.0.0.5'), {
      groups: [
        { group: '239.1.2.3', interface: 'eth0', source: '10.0.0.5' },
        { group: '239.1.2.4', interface: 'eth0', source: '10.0.0.5' },
      ],
      port: 1900,
    });
    assert.deepEqual(parseGroupSpec('[ff02::1234%lo]:5000').groups, [{ group: 'ff02::1234%lo', interface: undefined, source: undefined }]);
    assert.throws(() => parseGroupSpec('10.0.0.1:5000'), /not a multicast group/);
    assert.throws(() => parseGroupSpec('239.1.2.3'), /port is missing/);
    assert.throws(() => parseGroupSpec('239.1.2.3:1 239.1.2.4:2'), /one port/);
    assert.throws(() => parseGroupSpec('239.1.2.3:1 on'), /needs an interface/);
    assert.throws(() => parseGroupSpec('239.1.2.3:1 from nowhere'), /not an IP address/);
    assert.equal(listenAddressFor([{ group: '239.1.2.3' }]), '0.0.0.0');
    assert.equal(listenAddressFor([{ group: '239.1.2.3' }, { group: 'ff02::1%lo' }]), '::');
  });

  it('takes the send settings unless a block says otherwise', () => {
    const settings = { allowBroadcast: false, multicastTtl: 1, multicastLoopback: true, multicastInterface: '' };
    assert.deepEqual(groupSendOptions(settings), { ttl: 1, loopback: true, interface: undefined, broadcast: false });
    assert.deepEqual(groupSendOptions(settings, { ttl: 0, loopback: false, interface: 'lo', broadcast: true }), {
      ttl: 0,
      loopback: false,
      interface: 'lo',
      broadcast: true,
    });
  });
});

describe('.udp headers for groups', () => {
  const problems = (text: string): string[] => parseRequestFile(text).problems.map((problem) => `${problem.severity}: ${problem.message}`);

  it('reads @ttl, @loopback, @interface and @broadcast', () => {
    const file = parseRequestFile('@target 239.255.255.250:1900\n@ttl 0\n@loopback off\n@interface lo\nM-SEARCH * HTTP/1.1');
    assert.deepEqual(file.problems, []);
    const [block] = file.blocks;
    assert.deepEqual([block.ttl?.value, block.loopback?.value, block.interface?.value], [0, false, 'lo']);
    assert.equal(parseRequestFile('@target 255.255.255.255:9\n@broadcast on\nhello').blocks[0].broadcast?.value, true);
  });

  it('says what a bad value should be', () => {
    assert.match(problems('@target 239.1.2.3:9\n@ttl 256\nx')[0], /^error: Bad @ttl "256": .*from 0 to 255/);
    assert.match(problems('@target 239.1.2.3:9\n@loopback yes\nx')[0], /^error: Bad @loopback "yes"/);
    assert.match(problems('@target 239.1.2.3:9\n@interface\nx')[0], /^error: @interface needs a value/);
  });

  it('warns about headers that do nothing for the target, and refuses a burst to a group', () => {
    assert.match(problems('@target 127.0.0.1:9\n@ttl 2\nx')[0], /^warning: This header only applies to a multicast group/);
    assert.match(problems('@target 239.1.2.3:9\n@broadcast on\nx')[0], /^warning: @broadcast applies to broadcast addresses/);
    assert.match(problems('@target 239.1.2.3:9\n@repeat 10\nx')[0], /^error: A burst \(@repeat\) matches one reply/);
    assert.deepEqual(problems('@target example.com:9\n@ttl 2\nx'), [], 'a host name may be a group');
  });
});

describe('Group events in the log', () => {
  const options = { previewBytes: 64, hexDump: 'never' } as const;
  const local = { address: '0.0.0.0', port: 1900, family: 'IPv4' } as const;

  it('says which groups a server joined and left', () => {
    const groups = [{ group: '239.255.255.250', interface: 'eth0' }, { group: '239.1.2.3' }];
    const started = describeEvent({ kind: 'server-started', at: 0, serverId: 'udp-1', local, exposed: true, groups }, options);
    assert.equal(
      started.text,
      '[udp-1] echo server listening on 0.0.0.0:1900, joined groups 239.255.255.250 on eth0, 239.1.2.3 — reachable from other machines',
    );
    const stopped = describeEvent({ kind: 'server-stopped', at: 0, serverId: 'udp-1', local, groups: groups.slice(1) }, options);
    assert.equal(stopped.text, '[udp-1] echo server on 0.0.0.0:1900 stopped, left group 239.1.2.3');
  });

  it('counts the peers that answered a group, with each round trip', () => {
    const from = (address: string) => ({ address, port: 1900, family: 'IPv4' }) as const;
    const entry = describeEvent(
      {
        kind: 'replies-collected',
        at: 0,
        requestId: 1,
        target: { address: '239.255.255.250', port: 1900, family: 'IPv4' },
        replies: [
          { from: from('10.0.0.2'), rttMs: 0.42, size: 31 },
          { from: from('10.0.0.3'), rttMs: 1.5, size: 31 },
          { from: from('10.0.0.3'), rttMs: 1.6, size: 31 },
        ],
        peers: 2,
        more: 0,
        fromMorePeers: 0,
        windowMs: 1000,
      },
      options,
    );
    assert.equal(
      entry.text,
      '2 peers answered 239.255.255.250:1900 within 1.00 s (3 replies): 10.0.0.2:1900 in 0.42 ms (31 bytes), 10.0.0.3:1900 in 1.50 ms (31 bytes), 10.0.0.3:1900 in 1.60 ms (31 bytes)',
    );
  });
});

describe('A .udp block sent to a group', () => {
  const from = (address: string) => ({ address, port: 1900, family: 'IPv4' }) as const;
  const target = { address: '239.255.255.250', port: 1900, family: 'IPv4' } as const;
  const defaults = { target: '127.0.0.1:9', timeoutMs: 1000, retries: 0, backoff: 1, multicastTtl: 1, multicastLoopback: true };

  async function send(text: string, replies: Array<[string, string, number]>): Promise<{ result: BlockResult; asked: SendOptions }> {
    const file = parseRequestFile(text);
    let asked: SendOptions | undefined;
    const sender: BlockSender = {
      send: async (options) => {
        asked = options;
        const group = {
          kind: 'multicast' as const,
          replies: replies.map(([address, reply, rttMs]) => ({ from: from(address), rttMs, payload: Buffer.from(reply), attempt: 1 })),
          peers: replies.length,
          more: 0,
          fromMorePeers: 0,
        };
        return { requestId: 1, target, local: from('10.0.0.1'), attempts: 1, outcome: 'reply', group };
      },
      burst: () => assert.fail('not a burst'),
    };
    const result = await sendRequestBlock(sender, file, file.blocks[0], defaults, 1);
    return { result, asked: asked! };
  }

  it('reports how many peers answered and each round trip, and judges every reply', async () => {
    const search = '### discover\n@target 239.255.255.250:1900\n@ttl 2\n@expect contains "200 OK"\nM-SEARCH * HTTP/1.1';
    const { result, asked } = await send(search, [
      ['10.0.0.2', 'HTTP/1.1 200 OK', 0.5],
      ['10.0.0.3', 'HTTP/1.1 200 OK', 1.25],
    ]);
    assert.deepEqual(asked.group, { ttl: 2, loopback: true, interface: undefined, broadcast: undefined });
    assert.equal(result.outcome, 'passed');
    assert.equal(result.summary, '✓ 2 peers answered · 0.50 ms, 1.25 ms');
    assert.match(
      result.detail,
      /^2 peers answered: 10\.0\.0\.2:1900 in 0\.50 ms \(15 bytes\), 10\.0\.0\.3:1900 in 1\.25 ms \(15 bytes\); every reply contains "200 OK"$/,
    );
    assert.deepEqual(
      result.replies?.map((reply) => reply.from),
      ['10.0.0.2:1900', '10.0.0.3:1900'],
    );
    assert.equal(result.peers, 2);

    const failed = (
      await send(search, [
        ['10.0.0.2', 'HTTP/1.1 200 OK', 0.5],
        ['10.0.0.4', 'HTTP/1.1 404 Not Found', 0.7],
      ])
    ).result;
    assert.equal(failed.outcome, 'failed');
    assert.match(failed.detail, /1 of 2 failed, first from 10\.0\.0\.4:1900: expected a reply that contains "200 OK"/);
  });
});

describe('Broadcast addresses of every interface', () => {
  it("knows each interface's, and none for a /31 or /32, which have no broadcast address", () => {
    const table: InterfaceTable = {
      ...TABLE,
      p2p: [info('10.9.9.3', '255.255.255.255', 'IPv4')],
      link: [info('10.8.8.3', '255.255.255.254', 'IPv4')],
      small: [info('10.7.7.1', '255.255.255.252', 'IPv4')],
    };
    assert.equal(groupKind('10.9.9.3', table), undefined, 'a /32 is its own address, not a broadcast one');
    assert.equal(groupKind('10.8.8.3', table), undefined, 'a /31 has two hosts and no broadcast address');
    assert.equal(groupKind('10.7.7.3', table), 'broadcast', 'a /30 has one');
  });

  it("sends to loopback's 127.255.255.255 with @broadcast on, and a listener on this machine answers", async () => {
    const dgram = await import('node:dgram');
    // A broadcast reaches the sockets bound to the wildcard address; the datagram itself stays on loopback.
    const listener = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => listener.bind(0, '0.0.0.0', resolve));
    listener.on('message', (message, from) => listener.send(message, from.port, from.address));
    try {
      const options = (broadcast: boolean): SendOptions => ({
        target: { host: '127.255.255.255', port: listener.address().port, family: 4 },
        payload: Buffer.from('anyone on lo?'),
        timeoutMs: 1000,
        retries: 0,
        backoff: 1,
        group: { broadcast },
      });
      const result = await sendDatagram(options(true));
      assert.equal(result.outcome, 'reply', JSON.stringify(result));
      assert.deepEqual(
        result.group?.replies.map((reply) => [reply.from.address, reply.payload.toString()]),
        [['127.0.0.1', 'anyone on lo?']],
      );
      await assert.rejects(sendDatagram(options(false)), (error: WorkbenchError) => {
        assert.equal(error.code, 'BROADCAST_NOT_ALLOWED');
        assert.match(error.hint, /@broadcast on/);
        return true;
      });
    } finally {
      listener.close();
    }
  });
});

describe('A send to a group on this machine', () => {
  // Only the loopback interface, with a TTL of 0: nothing leaves this machine.
  const local = { interface: '127.0.0.1', ttl: 0 };

  it('is cancelled by its signal while it listens for replies', async () => {
    const controller = new AbortController();
    const sending = sendDatagram({
      target: { host: '239.77.9.9', port: 9, family: 4 },
      payload: Buffer.from('anyone?'),
      timeoutMs: 10_000,
      retries: 0,
      backoff: 1,
      signal: controller.signal,
      group: local,
    });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(sending, { code: 'CANCELLED' });
  });

  it('waits out its timeout, then says nobody answered', async () => {
    const result = await sendDatagram({
      target: { host: '239.77.9.9', port: 9, family: 4 },
      payload: Buffer.from('anyone?'),
      timeoutMs: 50,
      retries: 1,
      backoff: 1,
      group: local,
    });
    assert.deepEqual([result.outcome, result.attempts, result.group?.replies.length], ['timeout', 2, 0]);
  });
});
