import * as assert from 'node:assert/strict';
import { captureHeader, ipPacket, LINKTYPE_RAW, packetBlock, statisticsBlock, type CapturedDatagram } from '../../src/core/capture/pcapng';

/** The test's own RFC 1071 sum, written apart from the writer's: 0xffff over a header that carries a valid checksum. */
function onesComplementSum(bytes: Buffer): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (bytes[i] << 8) + (i + 1 < bytes.length ? bytes[i + 1] : 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  }
  return sum;
}

function u16(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeUInt16BE(v, i * 2));
  return b;
}

/** Splits a pcapng file into its blocks, checking that each one's two length fields agree and are 32-bit aligned. */
function blocks(file: Buffer): Array<{ type: number; body: Buffer }> {
  const found: Array<{ type: number; body: Buffer }> = [];
  for (let offset = 0; offset < file.length;) {
    const type = file.readUInt32LE(offset);
    const length = file.readUInt32LE(offset + 4);
    assert.equal(length % 4, 0, `block at ${offset} is ${length} bytes, not a multiple of 4`);
    assert.equal(file.readUInt32LE(offset + length - 4), length, `block at ${offset}: trailing length differs`);
    found.push({ type, body: file.subarray(offset + 8, offset + length - 4) });
    offset += length;
  }
  return found;
}

const datagram = (overrides: Partial<CapturedDatagram> = {}): CapturedDatagram => ({
  atMicros: 1_764_633_600_123_456,
  source: { address: '127.0.0.1', port: 50000 },
  destination: { address: '127.0.0.1', port: 12345 },
  payload: Buffer.from('hello'),
  ...overrides,
});

describe('pcapng writer', () => {
  it('starts with a Section Header Block and a raw-IP Interface Description Block with microsecond timestamps, byte for byte', () => {
    const header = captureHeader('UDP Workbench');
    const expected = Buffer.concat([
      // SHB: type, length 52, byte-order magic, version 1.0, section length -1
      Buffer.from('0a0d0d0a340000004d3c2b1a01000000ffffffffffffffff', 'hex'),
      // shb_userappl (4), 13 bytes, "UDP Workbench" + 3 bytes padding, end of options
      Buffer.from('04000d00', 'hex'),
      Buffer.from('UDP Workbench\0\0\0'),
      Buffer.from('00000000', 'hex'),
      Buffer.from('34000000', 'hex'),
      // IDB: type 1, length 52, link type 101, reserved, snap length 0
      Buffer.from('01000000' + '34000000' + '6500' + '0000' + '00000000', 'hex'),
      // if_name (2), 13 bytes "udp-workbench" + padding; if_tsresol (9), 1 byte = 6 + padding; end of options
      Buffer.from('02000d00', 'hex'),
      Buffer.from('udp-workbench\0\0\0'),
      Buffer.from('0900010006000000', 'hex'),
      Buffer.from('00000000', 'hex'),
      Buffer.from('34000000', 'hex'),
    ]);
    assert.equal(header.toString('hex'), expected.toString('hex'));
    const [shb, idb] = blocks(header);
    assert.equal(shb.type, 0x0a0d0d0a);
    assert.equal(idb.body.readUInt16LE(0), LINKTYPE_RAW);
  });

  it('writes an Enhanced Packet Block: timestamp split in two 32-bit halves, lengths, padded packet, padded comment, end of options', () => {
    const block = packetBlock(datagram({ comment: 'dropped' }));
    const packetLength = 20 + 8 + 5;
    // 32 fixed + 36 packet (33 padded) + 4 + 8 comment ("dropped" padded) + 4 end
    assert.equal(block.length, 32 + 36 + 4 + 8 + 4);
    const [epb] = blocks(block);
    assert.equal(epb.type, 6);
    const body = epb.body;
    assert.equal(body.readUInt32LE(0), 0, 'interface 0');
    const micros = (BigInt(body.readUInt32LE(4)) << 32n) | BigInt(body.readUInt32LE(8));
    assert.equal(micros, 1_764_633_600_123_456n);
    assert.equal(body.readUInt32LE(12), packetLength);
    assert.equal(body.readUInt32LE(16), packetLength);
    assert.deepEqual(body.subarray(20, 20 + packetLength), ipPacket(datagram().source, datagram().destination, Buffer.from('hello')));
    assert.equal(body.subarray(20 + packetLength, 20 + 36).toString('hex'), '000000', 'packet padded with zeros');
    const options = body.subarray(20 + 36);
    assert.equal(options.toString('hex'), '01000700' + Buffer.from('dropped\0').toString('hex') + '00000000');
  });

  it('closes with an Interface Statistics Block: interface, timestamp, comment, datagrams seen and left out, byte for byte', () => {
    const block = statisticsBlock({ atMicros: 0x1_0000_0002, seen: 7, leftOut: 3, comment: 'three left out' });
    const expected = Buffer.concat([
      // ISB: type 5, length 72, interface 0, timestamp high 1, low 2
      Buffer.from('05000000' + '48000000' + '00000000' + '01000000' + '02000000', 'hex'),
      // opt_comment (1), 14 bytes + 2 padding
      Buffer.from('01000e00', 'hex'),
      Buffer.from('three left out\0\0'),
      // isb_ifrecv (4), 8 bytes: 7; isb_ifdrop (5), 8 bytes: 3; end of options; length again
      Buffer.from('04000800' + '0700000000000000' + '05000800' + '0300000000000000' + '00000000' + '48000000', 'hex'),
    ]);
    assert.deepEqual(block.toString('hex'), expected.toString('hex'));
    assert.deepEqual(
      blocks(block).map(({ type }) => type),
      [5],
    );
  });

  it('leaves the options out when there is no comment, and pads a comment of a multiple of 4 bytes not at all', () => {
    assert.equal(packetBlock(datagram()).length, 32 + 36);
    const block = packetBlock(datagram({ comment: 'dup!' }));
    assert.equal(block.length, 32 + 36 + 4 + 4 + 4);
    assert.equal(block.subarray(8 + 20 + 36, 8 + 20 + 36 + 8).toString('hex'), '01000400' + Buffer.from('dup!').toString('hex'));
  });

  it('writes a comment in UTF-8, its length in bytes', () => {
    const block = packetBlock(datagram({ comment: 'délai' }));
    const options = blocks(block)[0].body.subarray(20 + 36);
    assert.equal(options.readUInt16LE(2), 6);
    assert.equal(options.subarray(4, 10).toString('utf8'), 'délai');
  });

  it('gives an IPv4 packet a valid header checksum and a UDP checksum over the pseudo-header', () => {
    const packet = ipPacket({ address: '127.0.0.1', port: 50000 }, { address: '10.1.2.3', port: 53 }, Buffer.from('odd'));
    assert.equal(packet[0], 0x45);
    assert.equal(packet.readUInt16BE(2), 20 + 8 + 3);
    assert.equal(packet[9], 17);
    assert.deepEqual([...packet.subarray(12, 20)], [127, 0, 0, 1, 10, 1, 2, 3]);
    assert.equal(onesComplementSum(packet.subarray(0, 20)), 0xffff, 'IPv4 header checksum');
    const udp = packet.subarray(20);
    assert.deepEqual([udp.readUInt16BE(0), udp.readUInt16BE(2), udp.readUInt16BE(4)], [50000, 53, 11]);
    const pseudo = Buffer.concat([packet.subarray(12, 20), u16(17, udp.length)]);
    assert.notEqual(udp.readUInt16BE(6), 0);
    assert.equal(onesComplementSum(Buffer.concat([pseudo, udp])), 0xffff, 'UDP checksum');
  });

  it('gives an IPv6 packet a UDP checksum over the IPv6 pseudo-header', () => {
    const packet = ipPacket({ address: '::1', port: 40000 }, { address: 'fe80::1:2%lo', port: 9 }, Buffer.from('hello, six'));
    assert.equal(packet[0] >> 4, 6);
    assert.equal(packet.readUInt16BE(4), 8 + 10, 'payload length');
    assert.equal(packet[6], 17);
    assert.equal(packet.subarray(8, 24).toString('hex'), '00000000000000000000000000000001');
    assert.equal(packet.subarray(24, 40).toString('hex'), 'fe800000000000000000000000010002');
    const udp = packet.subarray(40);
    const pseudo = Buffer.concat([packet.subarray(8, 40), u16(0, udp.length, 0, 17)]);
    assert.equal(onesComplementSum(Buffer.concat([pseudo, udp])), 0xffff);
  });

  it('reads every spelling of an IPv6 address (checked against Python’s ipaddress)', () => {
    const spellings: Array<[string, string]> = [
      ['::', '00000000000000000000000000000000'],
      ['1::', '00010000000000000000000000000000'],
      ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
      ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
      ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
      ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
      ['2001:DB8:0:0:1::1', '20010db8000000000001000000000001'],
    ];
    for (const [address, hex] of spellings) {
      assert.equal(
        ipPacket({ address, port: 1 }, { address: '::1', port: 2 }, Buffer.alloc(0)).subarray(8, 24).toString('hex'),
        hex,
        address,
      );
    }
    assert.throws(
      () => ipPacket({ address: 'localhost', port: 1 }, { address: '::1', port: 2 }, Buffer.alloc(0)),
      /"localhost" is not an IP address/,
    );
  });

  it('writes an IPv4 peer of a dual-stack socket IPv4-mapped', () => {
    const packet = ipPacket({ address: '127.0.0.1', port: 1 }, { address: '::', port: 2 }, Buffer.alloc(0));
    assert.equal(packet[0] >> 4, 6);
    assert.equal(packet.subarray(8, 24).toString('hex'), '00000000000000000000ffff7f000001');
    assert.equal(
      ipPacket({ address: '::ffff:10.0.0.1', port: 1 }, { address: '::1', port: 2 }, Buffer.alloc(0)).subarray(8, 24).toString('hex'),
      '00000000000000000000ffff0a000001',
    );
  });

  it('carries an empty datagram, and the largest of each family, and refuses one byte more', () => {
    const empty = ipPacket({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, Buffer.alloc(0));
    assert.equal(empty.length, 28);
    assert.equal(onesComplementSum(Buffer.concat([empty.subarray(12, 20), u16(17, 8), empty.subarray(20)])), 0xffff);

    const big = Buffer.alloc(65_507, 0xff);
    const v4 = ipPacket({ address: '255.255.255.255', port: 65535 }, { address: '255.255.255.255', port: 65535 }, big);
    assert.equal(v4.length, 65_535);
    assert.equal(v4.readUInt16BE(2), 65_535);
    assert.equal(onesComplementSum(v4.subarray(0, 20)), 0xffff);
    assert.equal(onesComplementSum(Buffer.concat([v4.subarray(12, 20), u16(17, 65_515), v4.subarray(20)])), 0xffff);
    const block = packetBlock(datagram({ payload: big }));
    assert.equal(block.length, 32 + 65_536);
    assert.equal(blocks(block).length, 1);

    const v6 = ipPacket({ address: '::1', port: 1 }, { address: '::1', port: 2 }, Buffer.alloc(65_527, 7));
    assert.equal(v6.readUInt16BE(4), 65_535);
    assert.equal(onesComplementSum(Buffer.concat([v6.subarray(8, 40), u16(0, 65_535, 0, 17), v6.subarray(40)])), 0xffff);

    assert.throws(
      () => ipPacket({ address: '127.0.0.1', port: 1 }, { address: '127.0.0.1', port: 2 }, Buffer.alloc(65_508)),
      /at most 65507 bytes, not 65508/,
    );
    assert.throws(() => ipPacket({ address: '::1', port: 1 }, { address: '::1', port: 2 }, Buffer.alloc(65_528)), /at most 65527 bytes/);
  });

  it('sends a UDP checksum that sums to 0 as 0xffff, since 0 means "none"', () => {
    // Find a payload whose checksum computes to 0, by solving for its last two bytes.
    const source = { address: '127.0.0.1', port: 1000 };
    const destination = { address: '127.0.0.1', port: 2000 };
    const probe = ipPacket(source, destination, Buffer.from([0, 0]));
    const sumWithoutPayload = 0xffff - probe.readUInt16BE(26);
    // The payload word w must make the total sum 0xffff (complement 0): w = 0xffff - sumWithoutPayload (one's complement).
    const word = 0xffff - sumWithoutPayload;
    const packet = ipPacket(source, destination, u16(word));
    assert.equal(packet.readUInt16BE(26), 0xffff);
    assert.equal(onesComplementSum(Buffer.concat([packet.subarray(12, 20), u16(17, 10), packet.subarray(20)])), 0xffff);
  });
});
