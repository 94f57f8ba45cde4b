/** A server or proxy's stop: it shuts down once, however often and from wherever it is asked. */
export abstract class StopsOnce {
  /** Set by the first stop(); what every later caller gets. */
  protected stopping: Promise<void> | undefined;

  get running(): boolean {
    return this.stopping === undefined;
  }

  /** Resolves once everything it holds is closed and its port is free. */
  stop(): Promise<void> {
    // Deferred a microtask so an event listener that calls stop() while stopping gets this same promise.
    this.stopping ??= Promise.resolve().then(() => this.shutDown());
    return this.stopping;
  }

  dispose(): void {
    void this.stop();
  }

  protected abstract shutDown(): Promise<void>;
}
