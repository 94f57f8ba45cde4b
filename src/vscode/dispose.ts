// No `vscode` import on purpose: anything with a dispose() fits (VS Code's disposables, timers wrapped in
// one, our own classes), and the unit tests run this in plain Node.

/** Anything that lets go of what it holds when disposed. */
export interface DisposableLike {
  dispose(): unknown;
}

/**
 * Disposes every one, in order, even when some throw; then throws what they threw (one error as it is,
 * several as an AggregateError), so no failure hides another and nothing is left open.
 */
export function disposeAll(disposables: Iterable<DisposableLike>): void {
  const errors: unknown[] = [];
  for (const disposable of disposables) {
    try {
      disposable.dispose();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length === 1) throw errors[0];
  // l10n-ignore: for the developer reading the stack, never shown in the workbench
  if (errors.length > 1) throw new AggregateError(errors, `${errors.length} disposables failed to dispose`);
}

/** A disposable that runs `dispose` once, however often it is disposed (a timer to clear, a file to close). */
export function toDisposable(dispose: () => unknown): DisposableLike {
  let done = false;
  return {
    dispose: () => {
      if (done) return;
      done = true;
      dispose();
    },
  };
}

/**
 * The base of every class in src/vscode that owns something to let go of: it registers each child where it
 * is created (`this.item = this._register(createStatusBarItem(...))`) and disposes them all, newest first,
 * once. A child registered after disposal is disposed at once: nothing outlives its owner.
 */
export abstract class Disposable implements DisposableLike {
  private readonly children = new Set<DisposableLike>();
  private disposed = false;

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    // Newest first: what was built on top of a child goes before it.
    const children = [...this.children].reverse();
    this.children.clear();
    disposeAll(children);
  }

  protected _register<T extends DisposableLike>(child: T): T {
    if (this.disposed) child.dispose();
    else this.children.add(child);
    return child;
  }
}
