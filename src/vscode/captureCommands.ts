import { isAbsolute } from 'node:path';
import * as vscode from 'vscode';
import { CaptureBuffer } from '../core/capture/captureBuffer';
import { CaptureFile, saveCapture, type CaptureFileStats } from '../core/capture/captureFile';
import { CaptureRecorder, type RecordListener } from '../core/capture/captureRecorder';
import { WorkbenchError } from '../core/errors';
import { CAPTURE_LIMITS } from '../core/limits';
import { quoteText } from '../core/escapeText';
import type { Workbench } from '../core/workbench/workbench';
import type { Command } from './commandRegistry';
import { countDatagrams, countOlderDatagrams } from './counts';
import { Disposable, toDisposable } from './dispose';
import { presentError } from './errorMessages';
import type { OutputLog } from './outputLog';
import { onDidChangeSettings, readSettings } from './settings';

/** Arguments for the capture commands from other extensions and tests: a path skips the save dialog (trusted folders only). */
export interface CaptureArgs {
  readonly path?: string;
}

export interface CaptureResult extends CaptureFileStats {
  readonly path: string;
}

const CAPTURING_KEY = 'udpWorkbench.capturing';

/**
 * Every datagram the workbench sees, kept in a ring buffer for `Save Capture…` and, while a capture runs,
 * streamed to a pcapng file that Wireshark opens.
 */
export class CaptureCommands extends Disposable {
  /** Also what the traffic view shows: one buffer serves both. */
  readonly buffer = new CaptureBuffer(bufferCapacity(readSettings().capture.bufferSize));
  private readonly recorder = new CaptureRecorder(this.buffer, (datagram) => {
    this.file?.add(datagram);
    this.onRecord?.(datagram);
  });
  /** Told of each datagram as it is recorded (the traffic view's charts), read in place. */
  onRecord: RecordListener | undefined;
  private file: CaptureFile | undefined;

  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.saveCapture', execute: (args: CaptureArgs) => this.save(args) },
    { id: 'udpWorkbench.startCapture', execute: (args: CaptureArgs) => this.start(args) },
    { id: 'udpWorkbench.stopCapture', execute: () => this.stop() },
  ];

  constructor(
    workbench: Workbench,
    private readonly log: OutputLog,
  ) {
    super();
    // Registered first, so disposed last: what the subscriptions recorded is written before the file closes.
    this._register(toDisposable(() => void this.close()));
    this._register(workbench.events.subscribe(this.recorder.add));
    this._register(
      onDidChangeSettings((settings, changed) => {
        if (changed('capture.bufferSize')) this.buffer.resize(bufferCapacity(settings.capture.bufferSize));
      }),
    );
    void setCapturing(false);
  }

  /** Records the datagram held back for its server's decision, so a view reads it now. */
  flush(): void {
    this.recorder.flush();
  }

  get capturing(): boolean {
    return this.file !== undefined;
  }

  /** Writes the datagrams the buffer holds to a file the user picks. */
  async save(args: CaptureArgs = {}): Promise<CaptureResult | undefined> {
    this.recorder.flush();
    const datagrams = this.buffer.datagrams();
    const notKept = this.buffer.notKept;
    const uri = await this.pickFile(args, vscode.l10n.t('Save Capture'));
    if (uri === undefined) return undefined;
    try {
      await saveCapture(uri.fsPath, datagrams);
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
    const saved = countDatagrams(datagrams.length);
    const path = quoteText(uri.fsPath);
    this.offerToOpen(
      uri,
      notKept === 0
        ? vscode.l10n.t('Saved {0} to {1}.', saved, path)
        : vscode.l10n.t(
            'Saved {0} to {1} ({2} did not fit in the buffer: raise {3} to keep more).',
            saved,
            path,
            countOlderDatagrams(notKept),
            'udpWorkbench.capture.bufferSize',
          ),
    );
    return { path: uri.fsPath, written: datagrams.length, notWritten: notKept };
  }

  /** Streams every datagram from now on to a file the user picks, until Stop Capture. */
  async start(args: CaptureArgs = {}): Promise<CaptureResult | undefined> {
    if (this.file !== undefined) {
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Already capturing to {0}.', quoteText(this.file.path)), vscode.l10n.t('Stop Capture'))
        .then((choice) => {
          if (choice) void this.stop();
        });
      return undefined;
    }
    const uri = await this.pickFile(args, vscode.l10n.t('Start Capture'));
    if (uri === undefined || this.file !== undefined) return undefined;
    try {
      const file = await CaptureFile.create(uri.fsPath, { onError: (error) => void this.failed(file, error) });
      this.file = file;
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
    this.recorder.flush();
    void setCapturing(true);
    this.log.info(`capture: writing every datagram to ${quoteText(uri.fsPath)} until UDP: Stop Capture`);
    return { path: uri.fsPath, written: 0, notWritten: 0 };
  }

  /** Writes what waits, closes the file, and offers to open it. */
  async stop(): Promise<CaptureResult | undefined> {
    const file = this.file;
    if (file === undefined) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No capture is running: UDP: Start Capture to File starts one.'));
      return undefined;
    }
    const stats = await this.close();
    if (stats === undefined) return undefined;
    const captured = countDatagrams(stats.written);
    const path = quoteText(file.path);
    this.offerToOpen(
      vscode.Uri.file(file.path),
      stats.notWritten === 0
        ? vscode.l10n.t('Captured {0} to {1}.', captured, path)
        : vscode.l10n.t(
            'Captured {0} to {1}. Left out, as the disk could not keep up: {2} (comments in the file say where: on the next datagram written, or in its closing record).',
            captured,
            path,
            countDatagrams(stats.notWritten),
          ),
    );
    return { path: file.path, ...stats };
  }

  /** Closes the capture file, if one is open; resolves once its handle is closed. Reports a failure to write. */
  async close(): Promise<CaptureFileStats | undefined> {
    const file = this.file;
    if (file === undefined) return undefined;
    this.recorder.flush();
    this.file = undefined;
    void setCapturing(false);
    try {
      return await file.close();
    } catch (error) {
      void presentError(error, this.log);
      return undefined;
    }
  }

  private async failed(file: CaptureFile, error: unknown): Promise<void> {
    if (this.file !== file) return;
    this.file = undefined;
    void setCapturing(false);
    await file.close().catch(() => undefined);
    void presentError(error, this.log);
  }

  /**
   * The path from the arguments, or the save dialog's. In an untrusted folder only the dialog counts: nothing the
   * folder could set up chooses where the extension writes.
   */
  private async pickFile(args: CaptureArgs, title: string): Promise<vscode.Uri | undefined> {
    if (typeof args.path === 'string' && args.path !== '' && vscode.workspace.isTrusted) {
      if (isAbsolute(args.path)) return vscode.Uri.file(args.path);
      const error = new WorkbenchError(
        'FILE_NOT_WRITABLE',
        vscode.l10n.t('The capture path {0} is not a full path.', quoteText(args.path)),
        vscode.l10n.t('Pass a full path, such as {0}.', '/tmp/capture.pcapng'),
      );
      void presentError(error, this.log);
      return undefined;
    }
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const name = `udp-capture-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.pcapng`;
    return vscode.window.showSaveDialog({
      title,
      saveLabel: title,
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: { [vscode.l10n.t('pcapng capture')]: ['pcapng'] },
    });
  }

  private offerToOpen(uri: vscode.Uri, message: string): void {
    this.log.info(`capture: ${message}`);
    const open = vscode.l10n.t('Open');
    void vscode.window.showInformationMessage(message, open, vscode.l10n.t('Reveal in File Explorer')).then((choice) => {
      // A capture viewer extension, if one is installed, opens .pcapng files; otherwise VS Code says it is binary.
      if (choice === open) void vscode.commands.executeCommand('vscode.open', uri);
      else if (choice) void vscode.commands.executeCommand('revealFileInOS', uri);
    });
  }
}

/** A value outside the setting's range (typed into settings.json) is brought inside. */
function bufferCapacity(setting: unknown): number {
  const size = typeof setting === 'number' && Number.isFinite(setting) ? Math.floor(setting) : CAPTURE_LIMITS.maxBufferSize;
  return Math.min(CAPTURE_LIMITS.maxBufferSize, Math.max(CAPTURE_LIMITS.minBufferSize, size));
}

function setCapturing(capturing: boolean): Thenable<unknown> {
  return vscode.commands.executeCommand('setContext', CAPTURING_KEY, capturing);
}
