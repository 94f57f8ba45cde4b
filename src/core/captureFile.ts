import { open, type FileHandle } from 'node:fs/promises';
import { quoteText } from './escapeText';
import { WorkbenchError } from './errors';
import { captureHeader, packetBlock, type CapturedDatagram } from './pcapng';
import { plural } from './stats';

export const CAPTURE_APPLICATION = 'UDP Workbench';

export interface CaptureFileOptions {
  /** How often what waits is written, in ms: a flood costs a few writes a second, never one per datagram. */
  flushIntervalMs?: number;
  /** Written at once when this much waits. */
  flushBytes?: number;
  /** Most bytes waiting while the disk is slow; datagrams beyond it are counted, not kept. */
  maxPendingBytes?: number;
  /** Called once when a write fails; the file is closed by then and takes no more datagrams. */
  onError?: (error: WorkbenchError) => void;
}

export interface CaptureFileStats {
  /** Datagrams written or waiting to be. */
  written: number;
  /** Datagrams left out because the disk could not keep up, or after a write failed. */
  notWritten: number;
}

const DEFAULTS = { flushIntervalMs: 250, flushBytes: 1 << 20, maxPendingBytes: 16 << 20 } as const;

/** A pcapng file that grows as datagrams happen, written in batches. */
export class CaptureFile {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private closing: Promise<CaptureFileStats> | undefined;
  private failure: WorkbenchError | undefined;
  /** The handle closing after a failed write. */
  private closingHandle: Promise<void> | undefined;
  private missedInARow = 0;
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
    try {
      await handle.write(captureHeader(CAPTURE_APPLICATION));
    } catch (error) {
      await handle.close();
      throw fileError(error as NodeJS.ErrnoException, path);
    }
    return new CaptureFile(handle, path, options);
  }

  private constructor(
    private readonly handle: FileHandle,
    readonly path: string,
    private readonly options: CaptureFileOptions,
  ) {
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
    // Field by field, not spread: the datagram may be a view onto the capture buffer, its fields getters.
    const block = packetBlock(
      this.missedInARow === 0
        ? datagram
        : {
            atMicros: datagram.atMicros,
            source: datagram.source,
            destination: datagram.destination,
            payload: datagram.payload,
            comment: gapComment(this.missedInARow, datagram.comment),
          },
    );
    this.missedInARow = 0;
    this.pending.push(block);
    this.pendingBytes += block.length;
    this.count.written++;
    if (this.pendingBytes >= this.settings.flushBytes) this.writePending();
    else this.timer ??= setTimeout(() => this.writePending(), this.settings.flushIntervalMs);
  };

  /** Writes what waits and closes the file; safe to call twice. Rejects with the write's error, if one failed. */
  close(): Promise<CaptureFileStats> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<CaptureFileStats> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.failure === undefined) {
      await this.writeBatch();
      try {
        await this.handle.close();
      } catch (error) {
        this.failure ??= fileError(error as NodeJS.ErrnoException, this.path);
      }
    }
    await this.closingHandle;
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
      await writeAll(this.handle, batch);
    } catch (error) {
      this.fail(fileError(error as NodeJS.ErrnoException, this.path), batch.length);
    }
  }

  private fail(error: WorkbenchError, lost: number): void {
    this.failure = error;
    this.count.written -= lost;
    this.count.notWritten += lost;
    this.closingHandle = this.handle.close().catch(() => undefined);
    this.options.onError?.(error);
  }
}

/** writev may write less than asked (a disk filling up): the rest is written until done or the disk says why not. */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  const total = buffers.reduce((sum, buffer) => sum + buffer.length, 0);
  let { bytesWritten } = await handle.writev(buffers);
  if (bytesWritten === total) return;
  const rest = Buffer.concat(buffers, total);
  while (bytesWritten < total) {
    const written = (await handle.write(rest, bytesWritten)).bytesWritten;
    if (written === 0) throw Object.assign(new Error('the disk took no more bytes'), { code: 'ENOSPC' });
    bytesWritten += written;
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
    let batchBytes = 0;
    for (const datagram of datagrams) {
      const block = packetBlock(datagram);
      batch.push(block);
      batchBytes += block.length;
      if (batchBytes < DEFAULTS.flushBytes) continue;
      await writeAll(handle, batch);
      batch = [];
      batchBytes = 0;
    }
    await writeAll(handle, batch);
    await handle.close();
  } catch (error) {
    await handle?.close().catch(() => undefined);
    throw fileError(error as NodeJS.ErrnoException, path);
  }
}
