import { describe, expect, it } from 'vitest';
import { decideClaim, keptInOrder, type WindowRow } from '../../src/lib/outbox/chain.js';
import type { ClaimedEvent } from '../../src/lib/outbox/claim.js';

const row = (id: number, aggregateId: string, predecessor: number | null, stuck = false): WindowRow => ({
  id,
  aggregateType: 'product',
  aggregateId,
  predecessor,
  stuck,
});

describe('decideClaim', () => {
  it('takes each aggregate up to its first break, in id order, at most limit rows', () => {
    const window = [row(1, 'a', null), row(2, 'b', null), row(3, 'a', 1), row(5, 'b', 4), row(6, 'b', 5)];
    // b's row 5 follows row 4, which is not in the window (leased elsewhere): b stops at row 2.
    expect(decideClaim(window, 10)).toEqual({ picked: [window[0], window[1], window[2]], block: [] });
    expect(decideClaim(window, 2).picked.map((r) => r.id)).toEqual([1, 2]);
  });

  it('blocks a chain that starts behind a stuck row, and only that chain', () => {
    const window = [row(2, 'a', 1, true), row(3, 'a', 2), row(5, 'a', 4), row(6, 'c', null)];
    // a: row 2 waits behind FAILED row 1 (blocked with row 3); row 5 follows row 4, outside and not stuck.
    expect(decideClaim(window, 10)).toEqual({ picked: [window[3]], block: [2, 3] });
  });

  it('an aggregate whose first window row has an earlier unpublished row is not claimable', () => {
    expect(decideClaim([row(9, 'a', 7)], 10)).toEqual({ picked: [], block: [] });
  });
});

describe('keptInOrder', () => {
  const event = (id: number, aggregateId: string) =>
    ({ id, aggregateType: 'product', aggregateId }) as ClaimedEvent;
  it('cuts an aggregate at its first picked row that could not be locked', () => {
    const picked = [event(1, 'a'), event(2, 'b'), event(3, 'a'), event(4, 'b'), event(5, 'a')];
    const locked = [event(1, 'a'), event(3, 'a'), event(4, 'b'), event(5, 'a')]; // row 2 taken by another relay
    expect(keptInOrder(picked, locked).map((e) => e.id)).toEqual([1, 3, 5]);
  });
});
