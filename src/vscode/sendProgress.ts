import * as vscode from 'vscode';

/** A send that takes longer than this gets a notification with a Cancel button; a quick one shows only in the status bar. */
const NOTIFY_AFTER_MS = 500;

export interface SendProgress {
  /** Aborts when the user cancels the notification or the caller cancels its token. */
  readonly signal: AbortSignal;
  /** A line under the title, such as the block being sent. */
  report(message: string): void;
}

/**
 * Runs a send with its progress in the status bar and, once it has taken a moment, in a cancellable notification.
 * `token` (a command's `cancellation` argument: tests, other extensions) cancels it as the notification does.
 */
export async function withSendProgress<T>(
  title: string,
  token: vscode.CancellationToken | undefined,
  task: (progress: SendProgress) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const cancel = (): void => controller.abort();
  const listeners: vscode.Disposable[] = [];
  if (token?.isCancellationRequested) cancel();
  if (token) listeners.push(token.onCancellationRequested(cancel));
  let message: string | undefined;
  let notification: vscode.Progress<{ message?: string }> | undefined;
  let done = false;
  let finish = (): void => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const notifyLater = setTimeout(() => {
    void vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      (progress, notificationToken) => {
        if (done) return finished;
        listeners.push(notificationToken.onCancellationRequested(cancel));
        notification = progress;
        if (message !== undefined) progress.report({ message });
        return finished;
      },
    );
  }, NOTIFY_AFTER_MS);
  try {
    return await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, (bar) =>
      task({
        signal: controller.signal,
        report: (text) => {
          message = text;
          bar.report({ message: text });
          notification?.report({ message: text });
        },
      }),
    );
  } finally {
    done = true;
    clearTimeout(notifyLater);
    finish();
    for (const listener of listeners) listener.dispose();
  }
}
