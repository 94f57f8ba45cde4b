/** 2^32: an exchange key's owner sits above its 32-bit number, both exact in a double. */
const OWNER_UNIT = 0x1_0000_0000;

/**
 * Exchanges as numbers: a datagram and its replies share one, so the traffic view can group them. Each owner (a
 * server, one direction of a proxy, the sends, one burst) gets a small integer once, with the text that names it;
 * a key is that owner and a number within it, so recording a datagram builds no string. `text` gives the name the
 * traffic view shows (`server-1#7`, `request 3`), built only when a row is.
 */
export class ExchangeKeys {
  private readonly owners = new Map<string, number>();
  private readonly prefixes: string[] = [];

  /** The owner named by `prefix`, the same one for the same text. */
  owner(prefix: string): number {
    let owner = this.owners.get(prefix);
    if (owner === undefined) {
      owner = this.prefixes.push(prefix) - 1;
      this.owners.set(prefix, owner);
    }
    return owner;
  }

  /** Owner and number: the key of `prefix` followed by `number`; without a number, the owner's text alone. */
  static key(owner: number, number?: number): number {
    return owner * OWNER_UNIT + (number === undefined ? 0 : (number % (OWNER_UNIT - 1)) + 1);
  }

  static ownerOf(key: number): number {
    return Math.floor(key / OWNER_UNIT);
  }

  /** An exchange given as text (a datagram added whole) as a key: its own owner, no number. */
  keyOf(text: string): number {
    return ExchangeKeys.key(this.owner(text));
  }

  text(key: number): string {
    const low = key % OWNER_UNIT;
    const prefix = this.prefixes[ExchangeKeys.ownerOf(key)] ?? '';
    return low === 0 ? prefix : `${prefix}${low - 1}`;
  }
}
