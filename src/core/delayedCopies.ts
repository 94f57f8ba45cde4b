/** A copy of a datagram that leaves now (0) or after its simulated delay, in ms. */
export interface DelayedCopy {
  readonly delayMs: number;
}

/**
 * The copies of datagrams that wait for their simulated delay, for an echo server's replies and a proxy's forwards
 * alike: each leaves when its delay is over, and on stop every one still waiting is cancelled and handed back once.
 */
export class DelayedCopies<T> {
  private readonly waiting = new Map<NodeJS.Timeout, T>();

  /** Sends each copy of `item`: at once when it has no delay, else when its delay is over. */
  send<C extends DelayedCopy>(item: T, copies: readonly C[], send: (item: T, copy: C) => void): void {
    // Without a simulation, every datagram: one copy that leaves now.
    if (copies.length === 1 && copies[0].delayMs === 0) {
      send(item, copies[0]);
      return;
    }
    for (const copy of copies) {
      if (copy.delayMs === 0) {
        send(item, copy);
        continue;
      }
      const timer = setTimeout(() => {
        this.waiting.delete(timer);
        send(item, copy);
      }, copy.delayMs);
      this.waiting.set(timer, item);
    }
  }

  /** Cancels every copy still waiting; `cancelled` hears of each copy, so an item with two waiting copies twice. */
  cancelAll(cancelled: (item: T) => void): void {
    for (const [timer, item] of this.waiting) {
      clearTimeout(timer);
      cancelled(item);
    }
    this.waiting.clear();
  }
}
