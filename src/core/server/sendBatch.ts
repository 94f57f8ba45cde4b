/**
 * Holds sends until the event loop has read every datagram waiting now, then makes them together, in the order they
 * were added. dgram calls a send's callback from the tick queue, and Node enters JavaScript once more to run that
 * queue after every received datagram that leaves a tick behind; sent together, one turn's sends share that entry.
 * Under a flood that entry was the largest cost of a reply beyond the system calls. The sends leave in the same turn
 * of the event loop (its check phase): a reply waits at most for the other datagrams already waiting, never for a
 * later turn.
 */
export class SendBatch<T, C> {
  private items: T[] = [];
  private copies: C[] = [];
  private immediate: NodeJS.Immediate | undefined;

  constructor(private readonly send: (item: T, copy: C) => void) {}

  add(item: T, copy: C): void {
    this.items.push(item);
    this.copies.push(copy);
    this.immediate ??= setImmediate(this.flush);
  }

  /** Makes every send waiting now; a stop calls it before closing its sockets. */
  readonly flush = (): void => {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    const { items, copies } = this;
    this.items = [];
    this.copies = [];
    for (let i = 0; i < items.length; i++) this.send(items[i], copies[i]);
  };
}
