import * as vscode from 'vscode';
import { formatEndpoint, isLoopback, MAX_DATAGRAM_BYTES, parseEndpoint, type Endpoint } from '../core/endpoint';
import { isWorkbenchError, quoteInput, WorkbenchError } from '../core/errors';
import { groupKind } from '../core/net/groupAddress';
import { groupSendOptions } from '../core/send/groupSend';
import { encodePayload, PAYLOAD_ENCODINGS, type PayloadEncoding } from '../core/payload';
import { formatCount, formatMs, plural } from '../core/stats';
import type { Workbench } from '../core/workbench/workbench';
import type { Command } from './commandRegistry';
import { countBytes, countDatagrams, countPeers, countTries } from './counts';
import { Disposable, toDisposable } from './dispose';
import { presentError, type ExtraAction } from './errorMessages';
import { validateWith } from './inputValidation';
import type { OutputLog } from './outputLog';
import { withSendProgress } from './sendProgress';
import { onDidChangeSettings, openSettings, readSettings, type SendSettings } from './settings';
import type { ServerCommands } from './serverCommands';

/** Arguments for the send commands from keybindings, other extensions and tests. */
export interface SendSelectionArgs {
  /** `host:port`; when absent, the last target used, or else the `udpWorkbench.send.target` setting. */
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
  /** Sent to a group or a broadcast address: every reply, and how many distinct peers sent them. */
  readonly replies?: ReadonlyArray<{ readonly from: string; readonly rttMs: number; readonly reply: string }>;
  readonly peers?: number;
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

/** The targets sent to lately, newest first; the Targets view lists them too. */
export const RECENT_TARGETS_KEY = 'udpWorkbench.recentTargets';
const MAX_RECENT_TARGETS = 10;
const ENCODING_ERRORS: ReadonlySet<string> = new Set(['BAD_HEX', 'BAD_BASE64', 'BAD_ESCAPE']);
/** Forgotten when the target setting changes, so a new setting takes effect at once. */
const LAST_TARGET_KEY = 'udpWorkbench.lastTarget';

interface Datagram {
  readonly text: string;
  readonly payload: Buffer;
}

/** Send the editor's selections (or current lines) and report what came back. Never throws. */
export class SendCommands extends Disposable {
  /** The latest send's result in the status bar, replaced (or cleared) by the next send. */
  private resultMessage: vscode.Disposable | undefined;

  readonly commands: readonly Command[] = [
    { id: 'udpWorkbench.sendSelection', execute: (args: SendSelectionArgs) => this.sendSelection(args) },
    { id: 'udpWorkbench.sendSelectionTo', execute: (args: SendSelectionArgs) => this.sendSelectionTo(args) },
  ];

  constructor(
    private readonly workbench: Workbench,
    private readonly log: OutputLog,
    private readonly state: vscode.Memento,
    private readonly servers: ServerCommands,
  ) {
    super();
    this._register(toDisposable(() => this.resultMessage?.dispose()));
    this._register(
      onDidChangeSettings((_, changed) => {
        if (changed('send.target')) void this.forgetLastTarget();
      }),
    );
  }

  /** Resolves to what was sent and what came back, or undefined when nothing could be sent (the user was told why). */
  sendSelection(args: SendSelectionArgs = {}): Promise<SendSelectionResult | undefined> {
    return this.send(args, readSettings().send);
  }

  async sendSelectionTo(args: SendSelectionArgs = {}): Promise<SendSelectionResult | undefined> {
    const settings = readSettings().send;
    const target = args.target ?? (await this.askForTarget(settings.target));
    return target === undefined ? undefined : this.send({ ...args, target }, settings);
  }

  /** Where Send Selection sends without being told: the last target used, until the target setting changes. */
  get lastTarget(): string | undefined {
    return this.state.get<string>(LAST_TARGET_KEY);
  }

  private forgetLastTarget(): Thenable<void> {
    return this.state.update(LAST_TARGET_KEY, undefined);
  }

  private async send(args: SendSelectionArgs, settings: SendSettings): Promise<SendSelectionResult | undefined> {
    const editor = vscode.window.activeTextEditor;
    if (!editor) {
      void vscode.window.showInformationMessage(
        vscode.l10n.t('Open a file and select the text to send: UDP: Send Selection sends the selection, or the current line.'),
      );
      return undefined;
    }
    const targetText = args.target ?? this.lastTarget ?? settings.target;
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
    await withSendProgress(vscode.l10n.t('UDP: sending to {0}', where), args.cancellation, async ({ signal }) => {
      datagrams.push(...(await this.sendEach(target, payloads, settings, signal)));
      cancelled = signal.aborted;
    });
    if (cancelled) {
      this.log.info(`Sending to ${where} was cancelled after ${plural(datagrams.length, 'datagram')}.`);
      vscode.window.setStatusBarMessage(vscode.l10n.t('$(circle-slash) {0}: cancelled', where), 5000);
      return { target: where, datagrams, cancelled };
    }
    return datagrams.length > 0 ? { target: where, datagrams } : undefined;
  }

  /** Sends one after another until one cannot be sent; offers to retry the ones that got no reply. */
  private async sendEach(
    target: Endpoint,
    payloads: readonly Datagram[],
    settings: SendSettings,
    signal?: AbortSignal,
  ): Promise<SentDatagram[]> {
    const datagrams: SentDatagram[] = [];
    const unanswered: Datagram[] = [];
    for (const datagram of payloads) {
      const sent = await this.sendOne(target, datagram.payload, datagram.text, settings, signal);
      if (!sent || signal?.aborted) break;
      datagrams.push(sent);
      if (sent.outcome === 'timeout') unanswered.push(datagram);
    }
    if (unanswered.length > 0 && !signal?.aborted) {
      void this.offerAfterGivingUp(target, unanswered, settings, datagrams.find((d) => d.outcome === 'timeout')?.attempts ?? 1);
    }
    return datagrams;
  }

  /** A send that gave up says so where it cannot be missed, with what to do next. */
  private async offerAfterGivingUp(
    target: Endpoint,
    unanswered: readonly Datagram[],
    settings: SendSettings,
    attempts: number,
  ): Promise<void> {
    const where = formatEndpoint(target);
    const what = unanswered.length === 1 ? quoteInput(unanswered[0].text) : countDatagrams(unanswered.length);
    const tries = countTries(attempts);
    const ours = this.workbench.runningServers.some((server) => server.local.port === target.port);
    const retry = vscode.l10n.t('Retry');
    const startThere = vscode.l10n.t('Start Echo Server There');
    const buttons = isLoopback(target.host) && !ours ? [retry, startThere] : [retry];
    const choice = await vscode.window.showWarningMessage(
      groupKind(target.host) === undefined
        ? vscode.l10n.t(
            'No reply from {0} to {1} after {2}. Something is listening there but did not answer in time, or the reply was lost.',
            where,
            what,
            tries,
          )
        : vscode.l10n.t(
            'Nobody answered {0} to {1} after {2}. Members may only listen; check the TTL, loopback and interface settings if they should answer.',
            where,
            what,
            tries,
          ),
      ...buttons,
    );
    if (choice === startThere && (await this.servers.start({ host: target.host, port: target.port })) === undefined) return;
    if (choice === retry || choice === startThere) await this.sendEach(target, unanswered, settings);
  }

  private showResult(text: string | undefined): void {
    this.resultMessage?.dispose();
    this.resultMessage = text === undefined ? undefined : vscode.window.setStatusBarMessage(text, 5000);
  }

  private async sendOne(
    target: Endpoint,
    payload: Buffer,
    text: string,
    settings: SendSettings,
    signal?: AbortSignal,
  ): Promise<SentDatagram | undefined> {
    try {
      const result = await this.workbench.send({
        target,
        payload,
        timeoutMs: settings.timeoutMs,
        retries: settings.retries,
        backoff: settings.backoff,
        signal,
        group: groupSendOptions(settings),
      });
      const where = formatEndpoint(result.target);
      const group = result.group;
      // A timeout clears an earlier success; the notification that follows says what happened.
      this.showResult(
        result.outcome !== 'reply' || !result.reply
          ? undefined
          : group
            ? vscode.l10n.t('$(check) {0}: {1} answered, first in {2}', where, countPeers(group.peers), formatMs(result.rttMs ?? 0))
            : vscode.l10n.t('$(check) {0}: {1} back in {2}', where, countBytes(result.reply.length), formatMs(result.rttMs ?? 0)),
      );
      return {
        text,
        outcome: result.outcome,
        attempts: result.attempts,
        rttMs: result.rttMs,
        reply: result.reply?.toString('utf8'),
        replyBytes: result.reply?.length,
        ...(group && {
          replies: group.replies.map(({ from, rttMs, payload }) => ({
            from: formatEndpoint(from),
            rttMs,
            reply: payload.toString('utf8'),
          })),
          peers: group.peers,
        }),
      };
    } catch (error) {
      this.showResult(undefined);
      if (signal?.aborted) return undefined;
      if (isWorkbenchError(error) && error.code === 'DATAGRAM_TOO_LARGE') {
        void presentError(error, this.log, {}, [this.splitAction(target, payload, settings)]);
        return undefined;
      }
      void presentError(error, this.log, {
        'start-server': () => this.servers.startThenResend(target, () => this.sendOne(target, payload, text, settings)),
        'use-ipv4': () => this.sendOne({ host: '127.0.0.1', port: target.port, family: 4 }, payload, text, settings),
        'open-settings': openSettings,
      });
      return undefined;
    }
  }

  /** Sends a datagram too large for UDP as consecutive datagrams of the largest size the target's family carries. */
  private splitAction(target: Endpoint, payload: Buffer, settings: SendSettings): ExtraAction {
    const max = MAX_DATAGRAM_BYTES[target.family ?? (target.host.includes(':') ? 6 : 4)];
    const count = Math.ceil(payload.length / max);
    return {
      title: vscode.l10n.t('Send as {0} Datagrams', formatCount(count)),
      run: () => {
        const parts = Array.from({ length: count }, (_, i) => payload.subarray(i * max, (i + 1) * max));
        return this.sendEach(
          target,
          parts.map((part, i) => ({ text: vscode.l10n.t('part {0} of {1}', formatCount(i + 1), formatCount(count)), payload: part })),
          settings,
        );
      },
    };
  }

  /** Encodes every selection, or the current line where nothing is selected; on bad input, says where and sends nothing. */
  private encodeSelections(editor: vscode.TextEditor, encoding: PayloadEncoding): Array<{ text: string; payload: Buffer }> | undefined {
    const encoded: Array<{ text: string; payload: Buffer }> = [];
    for (const selected of selectedTexts(editor)) {
      try {
        if (selected.text.length === 0) {
          throw new WorkbenchError(
            'EMPTY_PAYLOAD',
            vscode.l10n.t('Line {0} is empty: there is nothing to send.', selected.start.line + 1),
            vscode.l10n.t('Select the text to send, or put the cursor on the line that holds the datagram.'),
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
    // Only text the encoding could not read may read under another one; an empty line stays empty.
    const encodingMayHelp = isWorkbenchError(error) && ENCODING_ERRORS.has(error.code);
    const more: ExtraAction[] = [];
    if (encodingMayHelp) {
      more.push({
        title: vscode.l10n.t('Change Encoding…'),
        run: async () => {
          const picked = await vscode.window.showQuickPick(
            PAYLOAD_ENCODINGS.filter((e) => e !== encoding).map((label) => ({ label, encoding: label })),
            { placeHolder: vscode.l10n.t('Send the selection as… (now: {0})', encoding) },
          );
          if (picked) await this.sendSelection({ encoding: picked.encoding });
        },
      });
    }
    if (offset !== undefined) {
      more.unshift({
        title: vscode.l10n.t('Show Me'),
        run: async () => {
          const document = editor.document;
          const at = document.positionAt(document.offsetAt(selected.start) + offset);
          await vscode.window.showTextDocument(document, {
            viewColumn: editor.viewColumn,
            selection: new vscode.Range(at, at.translate(0, 1)),
          });
        },
      });
    }
    void presentError(error, this.log, {}, more);
  }

  /** A recent target, or a new one typed into an input box that checks it as the user types. */
  private async askForTarget(setting: string): Promise<string | undefined> {
    const recent = this.state.get<string[]>(RECENT_TARGETS_KEY, []);
    const another = vscode.l10n.t('$(edit) Another target…');
    const picked =
      recent.length === 0
        ? another
        : (
            await vscode.window.showQuickPick(
              [...recent.map((label) => ({ label, description: vscode.l10n.t('recent') })), { label: another }],
              { placeHolder: vscode.l10n.t('Send the selection to…') },
            )
          )?.label;
    if (picked !== another) return picked;
    return vscode.window.showInputBox({
      title: vscode.l10n.t('Send Selection To…'),
      prompt: vscode.l10n.t('host:port, e.g. 127.0.0.1:12345 or [::1]:9000'),
      value: setting,
      ignoreFocusOut: true,
      validateInput: validateWith((text) => parseEndpoint(text)),
    });
  }

  private async rememberTarget(target: string): Promise<void> {
    await this.state.update(LAST_TARGET_KEY, target);
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
