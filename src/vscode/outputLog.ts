import * as vscode from 'vscode';
import type { WorkbenchError } from '../core/errors';
import type { Workbench } from '../core/workbench/workbench';
import { DEFAULT_BATCHING, LogBatcher, type LogWriter } from '../core/log/logBatcher';
import type { LogLevel } from '../core/log/eventText';
import type { Command } from './commandRegistry';
import { Disposable } from './dispose';
import type { WorkbenchSettings } from './settings';

/** How many written lines the API keeps for other extensions and tests to read back. */
const RECENT_LINES = 1000;

/**
 * The "UDP Workbench" log output channel (timestamps and levels come from VS Code), fed by the
 * batched event stream and by the commands' own messages, in the order they happened.
 */
export class OutputLog extends Disposable {
  private readonly channel = this._register(vscode.window.createOutputChannel(vscode.l10n.t('UDP Workbench'), { log: true }));
  private readonly recent: string[] = [];
  private writtenCount = 0;
  private readonly batcher: LogBatcher;
  /** Errors the event stream carries into the log itself (a failed send), so that they are written once. */
  private readonly errorsFromEvents = new WeakSet<WorkbenchError>();

  readonly commands: readonly Command[] = [{ id: 'udpWorkbench.showLog', execute: () => this.show() }];

  constructor(workbench: Workbench, settings: WorkbenchSettings) {
    super();
    const writer: LogWriter = {
      info: (text) => this.write('info', text),
      warn: (text) => this.write('warn', text),
      error: (text) => this.write('error', text),
    };
    this.batcher = this._register(new LogBatcher(writer, { ...DEFAULT_BATCHING, ...settings.log }));
    this._register(
      workbench.events.subscribe((event) => {
        if (event.kind === 'send-failed') this.errorsFromEvents.add(event.error);
        this.batcher.add(event);
      }),
    );
  }

  applySettings(settings: WorkbenchSettings): void {
    this.batcher.configure({ ...DEFAULT_BATCHING, ...settings.log });
  }

  info(text: string): void {
    this.batcher.flush();
    this.write('info', text);
  }

  warn(text: string): void {
    this.batcher.flush();
    this.write('warn', text);
  }

  error(text: string): void {
    this.batcher.flush();
    this.write('error', text);
  }

  /** Writes an error the user is being shown, unless its event is already on its way into the log: one failure, one line. */
  errorOnce(error: WorkbenchError): void {
    if (this.errorsFromEvents.has(error)) this.batcher.flush();
    else this.error(error.text);
  }

  show(): void {
    this.batcher.flush();
    this.channel.show(true);
  }

  /** The last lines written, oldest first (after writing what is waiting). */
  lines(): readonly string[] {
    this.batcher.flush();
    return [...this.recent];
  }

  /** How many lines were ever written, including those no longer in lines(). */
  get written(): number {
    return this.writtenCount;
  }

  get batching(): { flushes: number; notShown: number } {
    return this.batcher.stats;
  }

  private write(level: LogLevel, text: string): void {
    this.channel[level](text);
    this.writtenCount++;
    this.recent.push(text);
    if (this.recent.length > RECENT_LINES) this.recent.splice(0, this.recent.length - RECENT_LINES);
  }
}
