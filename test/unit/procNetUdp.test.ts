import * as assert from 'node:assert/strict';
import { canonicalAddress, inodesOn, parseProcNetUdp, socketInode } from '../../src/core/net/procNetUdp';

// Rows as Linux 6.x writes them; the header of /proc/net/udp ends in trailing spaces.
const UDP = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops            ',
  '  120: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4242 2 0000000000000000 1234',
  '  300: 00000000:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 4243 2 0000000000000000 0',
  '  301: 0A00A8C0:C350 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4244 2 0000000000000000 7',
  '',
].join('\n');

const UDP6 = [
  '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '   50: 00000000000000000000000001000000:2328 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5151 2 0000000000000000 99',
  '   51: 00000000000000000000000000000000:2329 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5152 2 0000000000000000 3',
  '   52: 0000000000000000FFFF00000100007F:232A 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5153 2 0000000000000000 5',
  '   53: 000080FE00000000FF005002FE0D0E0C:232B 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5154 2 0000000000000000 8',
].join('\n');

describe('parseProcNetUdp', () => {
  it('reads IPv4 addresses as one little-endian word, ports as hex, and the drops column', () => {
    assert.deepEqual(parseProcNetUdp(UDP), [
      { address: '127.0.0.1', port: 8080, inode: 4242, drops: 1234 },
      { address: '0.0.0.0', port: 53, inode: 4243, drops: 0 },
      { address: '192.168.0.10', port: 50000, inode: 4244, drops: 7 },
    ]);
  });

  it('reads IPv6 addresses as four little-endian words and writes them the canonical way', () => {
    assert.deepEqual(parseProcNetUdp(UDP6), [
      { address: '::1', port: 9000, inode: 5151, drops: 99 },
      { address: '::', port: 9001, inode: 5152, drops: 3 },
      { address: '::ffff:7f00:1', port: 9002, inode: 5153, drops: 5 },
      { address: 'fe80::250:ff:c0e:dfe', port: 9003, inode: 5154, drops: 8 },
    ]);
  });

  it('gives undefined for text without a drops column, so callers can say the figure is not available', () => {
    assert.equal(parseProcNetUdp(''), undefined);
    assert.equal(parseProcNetUdp('sl local_address rem_address st\n 0: 0100007F:1F90 00000000:0000 07'), undefined);
    assert.equal(parseProcNetUdp('Inter-|   Receive\n face |bytes    packets'), undefined);
  });

  it('skips rows it cannot read instead of guessing', () => {
    const broken = `${UDP.split('\n')[0]}\n  1: nothex:1F90 00000000:0000 07 x x x 0 0 1 2 0 12\n  2: 0100007F:1F90 00000000:0000 07 x x x 0 0 1 2 0 notanumber`;
    assert.deepEqual(parseProcNetUdp(broken), []);
  });
});

describe('inodesOn', () => {
  it('lists the sockets on an address and port by inode, newest first, whatever spelling of the address Node reports', () => {
    const v4 = parseProcNetUdp(UDP) ?? [];
    const v6 = parseProcNetUdp(UDP6) ?? [];
    assert.deepEqual(inodesOn(v4, '127.0.0.1', 8080), [4242]);
    assert.deepEqual(inodesOn(v4, '0.0.0.0', 53), [4243]);
    assert.deepEqual(inodesOn(v4, '127.0.0.1', 53), [], 'same port, other address');
    assert.deepEqual(inodesOn(v6, '::1', 9000), [5151]);
    assert.deepEqual(inodesOn(v6, '0:0:0:0:0:0:0:1', 9000), [5151]);
    assert.deepEqual(inodesOn(v6, '::', 9001), [5152]);
    assert.deepEqual(inodesOn(v6, '::ffff:127.0.0.1', 9002), [5153]);
    assert.deepEqual(inodesOn(v6, 'FE80::250:FF:C0E:DFE%eth0', 9003), [5154]);
    assert.deepEqual(inodesOn(v6, '::1', 9001), []);
    const shared =
      parseProcNetUdp(`${UDP}\n  120: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4100 2 0 5`) ??
      [];
    assert.deepEqual(inodesOn(shared, '127.0.0.1', 8080), [4242, 4100], 'two sockets sharing a port (SO_REUSEADDR), as listed');
  });

  it("reads a socket's inode from its /proc/self/fd link, and nothing from any other kind of descriptor", () => {
    assert.equal(socketInode('socket:[14698]'), 14698);
    assert.equal(socketInode('pipe:[14698]'), undefined);
    assert.equal(socketInode('/dev/null'), undefined);
    assert.equal(socketInode('anon_inode:[eventpoll]'), undefined);
  });

  it('leaves IPv4 addresses as they are and writes IPv6 ones one way', () => {
    assert.equal(canonicalAddress('10.0.0.1'), '10.0.0.1');
    assert.equal(canonicalAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  });
});
