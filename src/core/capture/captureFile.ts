import { open, type FileHandle } from 'node:fs/promises';
import { quoteText } from '../escapeText';
import { WorkbenchError } from '../errors';
import { captureHeader, packetBlock, statisticsBlock, type CapturedDatagram } from './pcapng';
import { plural } from '../stats';

export const CAPTURE_APPLICATION = 'UDP Workbench';

export interface CaptureFileOptions {
  /** How often what waits is written, in ms: a flood costs a few writes a second, never one per datagram. */
  flushIntervalMs?: number;
  /** Written at once when this much waits. */
  flushBytes?: number;
  /** Most bytes waiting while the disk is slow; datagrams beyond it are counted, not kept. */
  maxPendingBytes?: number;
  /** Called once when a write fails; the file is cut back to its whole blocks by then and takes no more datagrams. */
  onError?: (error: WorkbenchError) => void;
}

export interface CaptureFileStats {
  /** Datagrams in the file, or waiting to be written to it. */
  written: number;
  /** Datagrams left out because the disk could not keep up, or after a write failed. */
  notWritten: number;
}

const DEFAULTS = { flushIntervalMs: 250, flushBytes: 1 << 20, maxPendingBytes: 16 << 20 } as const;

/** How many of the last blocks on disk a full disk may take back to make room for the closing record. */
const BLOCKS_TO_GIVE_BACK = 64;

/** A packet block, and how many datagrams were left out just before it (its comment says so). */
interface Block {
  readonly bytes: Buffer;
  readonly gap: number;
}

/**
 * A pcapng file that grows as datagrams happen, written in batches. The file only ever holds whole blocks: a write
 * the disk cut short is cut back to the last whole one, and `stats.written` counts exactly the packets in it.
 * Datagrams left out at the end get a closing record that says how many and why.
 */
export class CaptureFile {
  private pending: Block[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closing: Promise<CaptureFileStats> | undefined;
  private failure: WorkbenchError | undefined;
  /** Where the next block goes: the end of the header and of the whole blocks on disk. */
  private onDisk: number;
  /** The newest blocks on disk (their lengths and gaps), oldest first, at most BLOCKS_TO_GIVE_BACK. */
  private readonly lastOnDisk: Array<{ readonly length: number; readonly gap: number }> = [];
  /** Datagrams left out since the last block the file will hold. */
  private missedInARow = 0;
  /** Why they were, for the closing record. */
  private leftOutBecause = 'the disk could not keep up';
  private readonly count: CaptureFileStats = { written: 0, notWritten: 0 };
  private readonly settings: { flushIntervalMs: number; flushBytes: number; maxPendingBytes: number };

  /** Creates (or replaces) the file and writes the capture's header. Throws FILE_NOT_WRITABLE. */
  static async create(path: string, options: CaptureFileOptions = {}): Promise<CaptureFile> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'w');
    } catch (error) {
      throw fileError(error as NodeJS.ErrnoException, path);
    }
    const header = captureHeader(CAPTURE_APPLICATION);
    try {
      await writeAll(handle, [header], 0);
    } catch (error) {
      await handle.close();
      throw fileError(causeOf(error), path);
    }
    return new CaptureFile(handle, path, header.length, options);
  }

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    headerLength: number,
    private readonly options: CaptureFileOptions,
  ) {
    this.onDisk = headerLength;
    this.settings = {
      flushIntervalMs: options.flushIntervalMs ?? DEFAULTS.flushIntervalMs,
      flushBytes: options.flushBytes ?? DEFAULTS.flushBytes,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULTS.maxPendingBytes,
    };
  }

  get stats(): CaptureFileStats {
    return { ...this.count };
  }

  get open(): boolean {
    return this.closing === undefined && this.failure === undefined;
  }

  readonly add = (datagram: CapturedDatagram): void => {
    if (!this.open || this.pendingBytes >= this.settings.maxPendingBytes) {
      this.count.notWritten++;
      this.missedInARow++;
      return;
    }
    const gap = this.missedInARow;
    // Field by field, not spread: the datagram may be a view onto the capture buffer, its fields getters.
    const bytes = packetBlock(
      gap === 0
        ? datagram
        : {
            atMicros: datagram.atMicros,
            source: datagram.source,
            destination: datagram.destination,
            payload: datagram.payload,
            comment: gapComment(gap, datagram.comment),
          },
    );
    this.missedInARow = 0;
    this.pending.push({ bytes, gap });
    this.pendingBytes += bytes.length;
    this.count.written++;
    if (this.pendingBytes >= this.settings.flushBytes) this.writePending();
    else this.timer ??= setTimeout(() => this.writePending(), this.settings.flushIntervalMs);
  };

  /**
   * Writes what waits, then the closing record if datagrams were left out at the end, and closes the file; safe to
   * call twice. Rejects with the write's error, if one failed (the file then holds whole blocks, and `stats` says
   * how many).
   */
  close(): Promise<CaptureFileStats> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<CaptureFileStats> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    await this.writeBatch();
    try {
      if (this.missedInARow > 0) await this.writeClosingRecord();
    } finally {
      try {
        await this.handle.close();
      } catch (error) {
        this.failure ??= fileError(error as NodeJS.ErrnoException, this.path);
      }
    }
    if (this.failure !== undefined) throw this.failure;
    return this.stats;
  }

  /** One write at a time; what arrives meanwhile waits for the next. */
  private writePending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing !== undefined || this.closing !== undefined) return;
    this.writing = this.writeBatch().finally(() => {
      this.writing = undefined;
      if (this.pending.length > 0 && this.closing === undefined) {
        this.timer ??= setTimeout(() => this.writePending(), this.settings.flushIntervalMs);
      }
    });
  }

  private async writeBatch(): Promise<void> {
    if (this.pending.length === 0 || this.failure !== undefined) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    try {
      await writeAll(
        this.handle,
        batch.map((block) => block.bytes),
        this.onDisk,
      );
      this.onWritten(batch);
    } catch (error) {
      const whole = wholeBlocks(batch, error instanceof WriteStopped ? error.bytesWritten : 0);
      this.onWritten(batch.slice(0, whole));
      await this.fail(causeOf(error), batch.slice(whole));
    }
  }

  private onWritten(blocks: readonly Block[]): void {
    for (const { bytes, gap } of blocks) {
      this.onDisk += bytes.length;
      this.lastOnDisk.push({ length: bytes.length, gap });
    }
    this.lastOnDisk.splice(0, this.lastOnDisk.length - BLOCKS_TO_GIVE_BACK);
  }

  /** The file keeps its whole blocks; the rest of the batch, what waits and what comes later are left out. */
  private async fail(cause: NodeJS.ErrnoException, lost: readonly Block[]): Promise<void> {
    const error = fileError(cause, this.path);
    this.failure = error;
    this.leftOutBecause = isDiskFull(cause) ? 'the disk is full' : `writing the file failed (${cause.code ?? cause.message})`;
    const gone = [...lost, ...this.pending];
    this.pending = [];
    this.pendingBytes = 0;
    this.count.written -= gone.length;
    this.count.notWritten += gone.length;
    this.missedInARow += gone.reduce((sum, block) => sum + 1 + block.gap, 0);
    await this.cutBack();
    this.options.onError?.(error);
  }

  /**
   * An Interface Statistics Block with a comment after the last packet. On a full disk, the newest packets are given
   * back one at a time (at most BLOCKS_TO_GIVE_BACK) until it fits, and counted as left out like the rest.
   */
  private async writeClosingRecord(): Promise<void> {
    for (;;) {
      const left = this.missedInARow;
      const record = statisticsBlock({
        atMicros: Date.now() * 1000,
        seen: this.count.written + this.count.notWritten,
        leftOut: this.count.notWritten,
        comment: `${plural(left, 'datagram')} at the end of this capture ${left === 1 ? 'is' : 'are'} not in this file: ${this.leftOutBecause}`,
      });
      try {
        await writeAll(this.handle, [record], this.onDisk);
        return;
      } catch (error) {
        await this.cutBack();
        const last = this.lastOnDisk.pop();
        if (last === undefined || !isDiskFull(causeOf(error))) {
          this.failure ??= fileError(causeOf(error), this.path);
          return;
        }
        this.onDisk -= last.length;
        this.count.written--;
        this.count.notWritten++;
        this.missedInARow += 1 + last.gap;
        await this.cutBack();
      }
    }
  }

  /** Cuts the file back to its whole blocks; a disk that refuses even this leaves the file as it is. */
  private async cutBack(): Promise<void> {
    await this.handle.truncate(this.onDisk).catch(() => undefined);
  }
}

/** How far a write got before the disk refused the rest. */
class WriteStopped extends Error {
  constructor(
    readonly refusal: NodeJS.ErrnoException,
    readonly bytesWritten: number,
  ) {
    super(refusal.message);
  }
}

function causeOf(error: unknown): NodeJS.ErrnoException {
  return error instanceof WriteStopped ? error.refusal : (error as NodeJS.ErrnoException);
}

function isDiskFull(error: NodeJS.ErrnoException): boolean {
  return error.code === 'ENOSPC' || error.code === 'EDQUOT';
}

/** How many blocks from the start of the batch lie whole within its first `bytes` bytes. */
function wholeBlocks(batch: readonly Block[], bytes: number): number {
  let end = 0;
  for (let i = 0; i < batch.length; i++) {
    end += batch[i].bytes.length;
    if (end > bytes) return i;
  }
  return batch.length;
}

/**
 * Writes the buffers at `position`. writev may write less than asked (a disk filling up): the rest is written until
 * done or the disk says why not, and then WriteStopped tells how far it got.
 */
async function writeAll(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  let bytesWritten = 0;
  try {
    bytesWritten = (await handle.writev(buffers, position)).bytesWritten;
    if (bytesWritten === total) return;
    const rest = Buffer.concat(buffers, total);
    while (bytesWritten < total) {
      const written = (await handle.write(rest, bytesWritten, total - bytesWritten, position + bytesWritten)).bytesWritten;
      if (written === 0) throw Object.assign(new Error('the disk took no more bytes'), { code: 'ENOSPC' });
      bytesWritten += written;
    }
  } catch (error) {
    throw new WriteStopped(error as NodeJS.ErrnoException, bytesWritten);
  }
}

function gapComment(missed: number, comment: string | undefined): string {
  const gap = `${plural(missed, 'datagram')} before this one ${missed === 1 ? 'is' : 'are'} not in this file: the disk could not keep up`;
  return comment === undefined ? gap : `${gap}; ${comment}`;
}

export function fileError(error: NodeJS.ErrnoException, path: string): WorkbenchError {
  const file = quoteText(path);
  const cause = error;
  switch (error.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new WorkbenchError(
        'FILE_NOT_WRITABLE',
        `The disk is full: could not write the capture to ${file}.`,
        'Free some space, or save the capture on another disk.',
        { cause },
      );
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new WorkbenchError('FILE_NOT_WRITABLE', `Writing ${file} was not permitted.`, 'Pick a folder you can write to.', { cause });
    case 'ENOENT':
    case 'ENOTDIR':
      return new WorkbenchError('FILE_NOT_WRITABLE', `The folder for ${file} does not exist.`, 'Pick a folder that exists.', { cause });
    case 'EISDIR':
      return new WorkbenchError('FILE_NOT_WRITABLE', `${file} is a folder.`, 'Pick a file name, e.g. capture.pcapng.', { cause });
    default:
      return new WorkbenchError('FILE_NOT_WRITABLE', `Could not write the capture to ${file}: ${error.message}`, 'Pick another file.', {
        cause,
      });
  }
}

/** Writes a whole capture: the header, then every datagram, a batch of about a megabyte at a time. Throws FILE_NOT_WRITABLE. */
export async function saveCapture(path: string, datagrams: readonly CapturedDatagram[]): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, 'w');
    let batch = [captureHeader(CAPTURE_APPLICATION)];
    let batchBytes = batch[0].length;
    let position = 0;
    for (const datagram of datagrams) {
      const block = packetBlock(datagram);
      batch.push(block);
      batchBytes += block.length;
      if (batchBytes < DEFAULTS.flushBytes) continue;
      await writeAll(handle, batch, position);
      position += batchBytes;
      batch = [];
      batchBytes = 0;
    }
    await writeAll(handle, batch, position);
    await handle.close();
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw fileError(causeOf(error), path);
  }
}
