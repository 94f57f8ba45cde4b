import * as vscode from 'vscode';
import { formatEndpoint, parseEndpoint, type Endpoint } from '../core/endpoint';
import { WorkbenchError } from '../core/errors';
import { plural } from '../core/eventText';
import { encodePayload, PAYLOAD_ENCODINGS, type PayloadEncoding } from '../core/payload';
import { formatMs } from '../core/stats';
import type { Workbench } from '../core/workbench';
import { presentError } from './errorMessages';
import { validateWith } from './inputValidation';
import type { OutputLog } from './outputLog';
import { withSendProgress } from './sendProgress';
import { openSettings, readSettings } from './settings';
import type { ServerCommands } from './serverCommands';

/** Arguments for the send commands from keybindings, other extensions and tests. */
export interface SendSelectionArgs {
  /** `host:port`; the `udpWorkbench.send.target` setting when absent. */
  readonly target?: string;
  readonly encoding?: PayloadEncoding;
  /** Cancels the send, as the Cancel button of its progress notification does (tests, other extensions). */
  readonly cancellation?: vscode.CancellationToken;
}

export interface SentDatagram {
  readonly text: string;
  readonly outcome: 'reply' | 'timeout' | 'sent';
  readonly attempts: number;
  readonly rttMs?: number;
  /** The reply as UTF-8 text. */
  readonly reply?: string;
  readonly replyBytes?: number;
}

export interface SendSelectionResult {
  readonly target: string;
  /** Those sent before a cancel, if any. */
  readonly datagrams: readonly SentDatagram[];
  readonly cancelled?: boolean;
}

interface SelectedText {
  readonly text: string;
  /** Where the text starts in the document, to point at a bad character. */
  readonly start: vscode.Position;
}

const RECENT_TARGETS_KEY = 'udpWorkbench.recentTargets';
const MAX_RECENT_TARGETS = 10;

/** Send the editor's selections (or current lines) and report what came back. Never throws. */
export class SendCommands {
  constructor(
    private readonly workbench: Workbench,
    private readonly log: OutputLog,
    private readonly state: vscode.Memento,
    private readonly servers: ServerCommands,
  ) {}

  /** Resolves to what was sent and what came back, or undefined when nothing could be sent (the user was told why). */
  async sendSelection(args: SendSelectionArgs = {}): Promise<SendSelectionResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage('Open a file and select the text to send: UDP: Send Selection sends the selection, or the current line.');
      return undefined;
    }
    const settings = readSettings().send;
    const targetText = args.target ?? settings.target;
    let target: Endpoint;
    try {
      target = parseEndpoint(targetText);
    } catch (error) {
      void presentError(error, this.log, { 'open-settings': openSettings });
      return undefined;
    }
    const payloads = this.encodeSelections(editor, args.encoding ?? settings.encoding);
    if (!payloads) return undefined;
    await this.rememberTarget(formatEndpoint(target));
    const datagrams: SentDatagram[] = [];
    const where = formatEndpoint(target);
    let cancelled = false;
    await withSendProgress(`UDP: sending to ${where}`, args.cancellation, async ({ signal }) => {
      for (const { text, payload } of payloads) {
        const sent = await this.sendOne(target, payload, text, signal);
        cancelled = signal.aborted;
        if (!sent || cancelled) break;
        datagrams.push(sent);
      }
    });
    if (cancelled) {
      this.log.info(`Sending to ${where} was cancelled after ${plural(datagrams.length, 'datagram')}.`);
      vscode.window.setStatusBarMessage(`$(circle-slash) ${where}: cancelled`, 5000);
      return { target: where, datagrams, cancelled };
    }
    return datagrams.length > 0 ? { target: where, datagrams } : undefined;
  }

  async sendSelectionTo(args: SendSelectionArgs = {}): Promise<SendSelectionResult | undefined> {
    const target = args.target ?? (await this.askForTarget());
    return target === undefined ? undefined : this.sendSelection({ ...args, target });
  }

  private async sendOne(target: Endpoint, payload: Buffer, text: string, signal?: AbortSignal): Promise<SentDatagram | undefined> {
    const settings = readSettings().send;
    try {
      const result = await this.workbench.send({ target, payload, timeoutMs: settings.timeoutMs, retries: settings.retries, backoff: settings.backoff, signal });
      const where = formatEndpoint(result.target);
      if (result.outcome === 'reply' && result.reply) {
        vscode.window.setStatusBarMessage(`$(check) ${where}: ${plural(result.reply.length, 'byte')} back in ${formatMs(result.rttMs ?? 0)}`, 5000);
      } else {
        vscode.window.setStatusBarMessage(`$(warning) ${where}: no reply after ${result.attempts === 1 ? '1 try' : `${result.attempts} tries`}`, 5000);
      }
      return { text, outcome: result.outcome, attempts: result.attempts, rttMs: result.rttMs, reply: result.reply?.toString('utf8'), replyBytes: result.reply?.length };
    } catch (error) {
      if (signal?.aborted) return undefined;
      void presentError(error, this.log, {
        'start-server': async () => {
          if ((await this.servers.start({ host: target.host, port: target.port })) !== undefined) await this.sendOne(target, payload, text);
        },
        'use-ipv4': () => this.sendOne({ host: '127.0.0.1', port: target.port, family: 4 }, payload, text),
        'open-settings': openSettings,
      });
      return undefined;
    }
  }

  /** Encodes every selection, or the current line where nothing is selected; on bad input, says where and sends nothing. */
  private encodeSelections(editor: vscode.TextEditor, encoding: PayloadEncoding): Array<{ text: string; payload: Buffer }> | undefined {
    const encoded: Array<{ text: string; payload: Buffer }> = [];
    for (const selected of selectedTexts(editor)) {
      try {
        if (selected.text.length === 0) {
          throw new WorkbenchError(
            'EMPTY_PAYLOAD',
            `Line ${selected.start.line + 1} is empty: there is nothing to send.`,
            'Select the text to send, or put the cursor on the line that holds the datagram.',
          );
        }
        encoded.push({ text: selected.text, payload: encodePayload(selected.text, encoding) });
      } catch (error) {
        this.reportBadText(editor, selected, error, encoding);
        return undefined;
      }
    }
    return encoded;
  }

  private reportBadText(editor: vscode.TextEditor, selected: SelectedText, error: unknown, encoding: PayloadEncoding): void {
    const offset = error instanceof WorkbenchError ? error.offset : undefined;
    const more = [
      {
        title: 'Change Encoding…',
        run: async () => {
          const picked = await vscode.window.showQuickPick(
            PAYLOAD_ENCODINGS.filter((e) => e !== encoding).map((label) => ({ label, encoding: label })),
            { placeHolder: `Send the selection as… (now: ${encoding})` },
          );
          if (picked) await this.sendSelection({ encoding: picked.encoding });
        },
      },
    ];
    if (offset !== undefined) {
      more.unshift({
        title: 'Show Me',
        run: async () => {
          const document = editor.document;
          const at = document.positionAt(document.offsetAt(selected.start) + offset);
          await vscode.window.showTextDocument(document, { viewColumn: editor.viewColumn, selection: new vscode.Range(at, at.translate(0, 1)) });
        },
      });
    }
    void presentError(error, this.log, {}, more);
  }

  /** A recent target, or a new one typed into an input box that checks it as the user types. */
  private async askForTarget(): Promise<string | undefined> {
    const recent = this.state.get<string[]>(RECENT_TARGETS_KEY, []);
    const another = '$(edit) Another target…';
    const picked =
      recent.length === 0
        ? another
        : (await vscode.window.showQuickPick([...recent.map((label) => ({ label, description: 'recent' })), { label: another }], { placeHolder: 'Send the selection to…' }))?.label;
    if (picked !== another) return picked;
    return vscode.window.showInputBox({
      title: 'Send Selection To…',
      prompt: 'host:port, e.g. 127.0.0.1:12345 or [::1]:9000',
      value: readSettings().send.target,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseEndpoint(text)),
    });
  }

  private async rememberTarget(target: string): Promise<void> {
    const recent = this.state.get<string[]>(RECENT_TARGETS_KEY, []).filter((t) => t !== target);
    await this.state.update(RECENT_TARGETS_KEY, [target, ...recent].slice(0, MAX_RECENT_TARGETS));
  }
}

/** Each selection; an empty selection stands for its whole line, once per line. */
function selectedTexts(editor: vscode.TextEditor): SelectedText[] {
  const seenLines = new Set<number>();
  const texts: SelectedText[] = [];
  for (const selection of editor.selections) {
    if (!selection.isEmpty) {
      texts.push({ text: editor.document.getText(selection), start: selection.start });
    } else if (!seenLines.has(selection.active.line)) {
      seenLines.add(selection.active.line);
      const line = editor.document.lineAt(selection.active.line);
      texts.push({ text: line.text, start: line.range.start });
    }
  }
  return texts;
}
