import * as assert from 'node:assert/strict';
import type { Peer } from '../../src/core/events';
import { describeEvent, MAX_HEX_DUMP_LINES, MAX_TEXT_PREVIEW_BYTES } from '../../src/core/log/eventText';

const PEER: Peer = { address: '127.0.0.1', port: 50000, family: 'IPv4' };

function receivedText(payload: Buffer, previewBytes: number, hexDump: 'auto' | 'always' | 'never'): string {
  return describeEvent({ kind: 'received', at: 0, serverId: 'udp-1', peer: PEER, payload, seq: 1 }, { previewBytes, hexDump }).text;
}

describe('describeEvent', () => {
  it('caps the hex dump of one entry at a fixed number of lines, saying how many bytes were not shown', () => {
    const lines = receivedText(Buffer.alloc(65_507, 0xab), 65_536, 'always').split('\n');
    assert.equal(lines.length, 1 + MAX_HEX_DUMP_LINES + 1);
    assert.equal(lines[0], '[udp-1] received #1 from 127.0.0.1:50000, 65,507 bytes:');
    assert.equal(lines.at(-1), `    … (+${(65_507 - MAX_HEX_DUMP_LINES * 16).toLocaleString('en-US')} bytes not shown)`);
  });

  it('shows the whole datagram when it is within previewBytes and the cap', () => {
    const lines = receivedText(Buffer.alloc(100, 0xab), 256, 'always').split('\n');
    assert.equal(lines.length, 1 + 7);
  });

  it('caps a text preview too, saying how much was cut', () => {
    const text = receivedText(Buffer.alloc(65_507, 0x61), 65_536, 'auto');
    assert.ok(
      text.endsWith(`"${'a'.repeat(MAX_TEXT_PREVIEW_BYTES)}" … (+${(65_507 - MAX_TEXT_PREVIEW_BYTES).toLocaleString('en-US')} bytes)`),
    );
  });

  it('logs look-alike datagrams differently', () => {
    assert.equal(receivedText(Buffer.from('a\nb'), 256, 'auto'), String.raw`[udp-1] received #1 from 127.0.0.1:50000, 3 bytes: "a\nb"`);
    assert.equal(
      receivedText(Buffer.from(String.raw`a\nb`), 256, 'auto'),
      String.raw`[udp-1] received #1 from 127.0.0.1:50000, 4 bytes: "a\\nb"`,
    );
  });
});
