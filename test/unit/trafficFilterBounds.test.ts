import * as assert from 'node:assert/strict';
import type { RecordedDatagram } from '../../src/core/capture/captureBuffer';
import { TRAFFIC_LIMITS } from '../../src/core/limits';
import { parseTrafficFilter } from '../../src/core/traffic/trafficFilter';
import { client, server } from './serverEvents';

/** The work a filter does, measured as characters lowercased: the one step whose cost grew with the term. */
function charactersLowercased(run: () => void): number {
  const original = String.prototype.toLowerCase;
  let characters = 0;
  String.prototype.toLowerCase = function (this: string): string {
    characters += this.length;
    return original.call(this);
  };
  try {
    run();
  } finally {
    String.prototype.toLowerCase = original;
  }
  return characters;
}

const DATAGRAMS = 10_000;
const held: RecordedDatagram[] = Array.from({ length: DATAGRAMS }, (_, i) => ({
  atMicros: i,
  source: client,
  destination: server,
  payload: Buffer.from(`datagram ${i}`),
  direction: 'in',
  fate: 'received',
  exchange: `s#${i}`,
}));

/** "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535" is the longest endpoint: what a term may lowercase per datagram. */
const LONGEST_ENDPOINT = 47;

describe('Traffic view: the filter stays cheap, whatever is typed', () => {
  it('lowercases a long term once, not once per datagram: the work is the term plus each datagram’s addresses', () => {
    const term = `peer:${'A'.repeat(TRAFFIC_LIMITS.maxFilterLength - 5)}`;
    const work = charactersLowercased(() => {
      const filter = parseTrafficFilter(term);
      held.forEach(filter.matches);
    });
    assert.ok(
      work <= 2 * term.length + DATAGRAMS * LONGEST_ENDPOINT,
      `${work.toLocaleString('en')} characters lowercased for a ${term.length}-character term over ${DATAGRAMS} datagrams`,
    );
  });

  it('refuses a filter over its length limit with a message that says so, and shows everything meanwhile', () => {
    const huge = `peer:${'a'.repeat(1 << 20)}`;
    let filter = parseTrafficFilter('');
    const work = charactersLowercased(() => {
      filter = parseTrafficFilter(huge);
      held.slice(0, 100).forEach(filter.matches);
    });
    assert.equal(work, 0, 'a refused filter is not even lowercased');
    assert.equal(
      filter.error,
      'The filter is 1,048,581 characters long, over the 1,000 it takes, so it is not applied: shorten it to the few terms that tell the datagrams apart.',
    );
    assert.ok(held.every(filter.matches));
    const longest = parseTrafficFilter(`"${'x'.repeat(TRAFFIC_LIMITS.maxFilterLength - 2)}"`);
    assert.equal(longest.error, undefined, 'a filter of exactly the limit is applied');
    assert.equal(held.filter(longest.matches).length, 0);
  });
});
