import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureFile } from '../../src/core/capture/captureFile';
import type { WorkbenchError } from '../../src/core/errors';
import { captureHeader, packetBlock, type CapturedDatagram } from '../../src/core/capture/pcapng';
import { client, server } from './serverEvents';
import { readCapture } from './tshark';

const BLOCK_ENHANCED_PACKET = 6;
const BLOCK_INTERFACE_STATISTICS = 5;

/** The file's blocks by type; every block must be whole, its two lengths equal. */
function blockTypes(file: Buffer): number[] {
  const types: number[] = [];
  for (let offset = 0; offset < file.length;) {
    assert.ok(offset + 12 <= file.length, `a block cut short at ${offset} of ${file.length} bytes`);
    const length = file.readUInt32LE(offset + 4);
    assert.ok(offset + length <= file.length, `the block at ${offset} (${length} bytes) is cut short at ${file.length}`);
    assert.equal(file.readUInt32LE(offset + length - 4), length, `block at ${offset}: trailing length differs`);
    types.push(file.readUInt32LE(offset));
    offset += length;
  }
  return types;
}

/** The closing record's comment and its counts (isb_ifrecv, isb_ifdrop), read by the test from the last block. */
function closingRecord(file: Buffer): { comment: string; seen: bigint; leftOut: bigint } {
  const length = file.readUInt32LE(file.length - 4);
  const start = file.length - length;
  assert.equal(file.readUInt32LE(start), BLOCK_INTERFACE_STATISTICS, 'the last block is an Interface Statistics Block');
  const found = new Map<number, Buffer>();
  for (let offset = start + 20; offset < file.length - 4;) {
    const code = file.readUInt16LE(offset);
    const size = file.readUInt16LE(offset + 2);
    if (code === 0) break;
    found.set(code, file.subarray(offset + 4, offset + 4 + size));
    offset += 4 + Math.ceil(size / 4) * 4;
  }
  return {
    comment: found.get(1)?.toString('utf8') ?? '',
    seen: found.get(4)?.readBigUInt64LE() ?? -1n,
    leftOut: found.get(5)?.readBigUInt64LE() ?? -1n,
  };
}

/** Wireshark reads the whole file: exit 0 and nothing about a packet cut short. */
function assertTsharkReadsWhole(path: string): void {
  const run = spawnSync('tshark', ['-n', '-r', path], { encoding: 'utf8' });
  assert.equal(run.error, undefined, 'tshark is installed (node test/host/setup.mjs installs it)');
  assert.doesNotMatch(run.stderr, /cut short|appears to be damaged|corrupt/i);
  assert.equal(run.status, 0, run.stderr);
}

const datagram = (n: number, size: number): CapturedDatagram => ({
  atMicros: n,
  source: client,
  destination: server,
  payload: Buffer.alloc(size, n),
});

describe('CaptureFile when the disk fills up or cannot keep up', function () {
  let dir: string;
  let mount: string;
  /** Every file a test opened, closed after it even when it failed early: an open file keeps the disk mounted. */
  let opened: CaptureFile[];
  const create = async (...args: Parameters<typeof CaptureFile.create>): Promise<CaptureFile> => {
    const file = await CaptureFile.create(...args);
    opened.push(file);
    return file;
  };
  beforeEach(function () {
    opened = [];
    dir = mkdtempSync(join(tmpdir(), 'udpw-capture-full-'));
    mount = join(dir, 'small-disk');
    mkdirSync(mount);
    try {
      // A real full disk: a 64 KiB tmpfs of the test's own (16 pages), mounted as root, removed after each test.
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mount], { stdio: 'pipe' });
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      const why = `these tests fill a 64 KiB tmpfs of their own, and mounting one needs root: ${String(error)}`;
      if (process.env.CI === 'true') assert.fail(`CI runs as root, yet ${why}`);
      console.log(`      skipped: ${why}`);
      this.skip();
    }
  });
  afterEach(async () => {
    await Promise.all(opened.map((file) => file.close().catch(() => undefined)));
    execFileSync('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('cuts a write the disk cut short back to the last whole packet, counts exactly what the file holds, and closes with a record of the rest', async () => {
    const path = join(mount, 'full.pcapng');
    const errors: string[] = [];
    const file = await create(path, { flushIntervalMs: 5, onError: (error) => errors.push(error.text) });
    // One batch: the first fits the disk whole, the second only in part, the third not at all.
    for (let n = 1; n <= 3; n++) file.add(datagram(n, 30_000));
    await new Promise((resolve) => setTimeout(resolve, 200));
    file.add(datagram(9, 100));
    assert.equal(file.open, false);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^The disk is full: could not write the capture to ".*full\.pcapng"\. Free some space/);
    assert.deepEqual(file.stats, { written: 2, notWritten: 2 }, 'two whole packets on disk, the cut one and the later one left out');

    const closed = await file.close().catch((error: unknown) => error as WorkbenchError);
    assert.equal((closed as WorkbenchError).code, 'FILE_NOT_WRITABLE', 'closing reports the failure');
    const bytes = readFileSync(path);
    assert.deepEqual(blockTypes(bytes).slice(2), [BLOCK_ENHANCED_PACKET, BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE_STATISTICS]);
    const { written, notWritten } = file.stats;
    assert.deepEqual({ written, notWritten }, { written: 2, notWritten: 2 });
    assert.deepEqual(closingRecord(bytes), {
      comment: '2 datagrams at the end of this capture are not in this file: the disk is full',
      seen: 4n,
      leftOut: 2n,
    });
    assertTsharkReadsWhole(path);
    assert.deepEqual(
      readCapture(path).map((packet) => packet.payload.slice(0, 2)),
      ['01', '02'],
      'tshark reads the two whole packets, exactly what the stats say',
    );
  });

  it('gives back the newest packets when the disk has no room left for the closing record, and counts them with the rest', async () => {
    const path = join(mount, 'brim.pcapng');
    const file = await create(path, { flushIntervalMs: 5 });
    // The header and two packets fill the 64 KiB exactly; a third cannot be written, nor then the closing record.
    const header = captureHeader('UDP Workbench').length;
    const first = datagram(1, 60_000);
    const secondBlock = 65_536 - header - packetBlock(first).length;
    const second = datagram(2, secondBlock - packetBlock(datagram(0, 0)).length);
    assert.equal(header + packetBlock(first).length + packetBlock(second).length, 65_536);
    [first, second, datagram(3, 1000)].forEach(file.add);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(file.stats, { written: 2, notWritten: 1 });
    await assert.rejects(file.close(), { code: 'FILE_NOT_WRITABLE' });
    assert.deepEqual(file.stats, { written: 1, notWritten: 2 }, 'the second packet gave its room to the record');
    const bytes = readFileSync(path);
    assert.deepEqual(blockTypes(bytes).slice(2), [BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE_STATISTICS]);
    assert.deepEqual(closingRecord(bytes), {
      comment: '2 datagrams at the end of this capture are not in this file: the disk is full',
      seen: 3n,
      leftOut: 2n,
    });
    assertTsharkReadsWhole(path);
    assert.equal(readCapture(path).length, 1);
  });

  it('closes with a record of the datagrams left out at the end because the disk could not keep up', async () => {
    const path = join(mount, 'slow.pcapng');
    const file = await create(path, { maxPendingBytes: 1, flushIntervalMs: 60_000 });
    for (let n = 1; n <= 4; n++) file.add(datagram(n, 10));
    assert.deepEqual(await file.close(), { written: 1, notWritten: 3 });
    const bytes = readFileSync(path);
    assert.deepEqual(blockTypes(bytes).slice(2), [BLOCK_ENHANCED_PACKET, BLOCK_INTERFACE_STATISTICS]);
    assert.deepEqual(closingRecord(bytes), {
      comment: '3 datagrams at the end of this capture are not in this file: the disk could not keep up',
      seen: 4n,
      leftOut: 3n,
    });
    assertTsharkReadsWhole(path);
    assert.equal(readCapture(path).length, 1);
  });
});
