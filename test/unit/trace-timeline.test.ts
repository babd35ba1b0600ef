import { describe, expect, it } from 'vitest';
import { handlerTimes } from '../../src/jobs/trace/timeline.js';
import { checkId } from '../../src/jobs/trace/database.js';
import { partitionOfKey } from '../../src/lib/kafka/key-partition.js';
import { Partitioners } from '../../src/lib/kafka/kafkajs.js';

const t = (s: number) => new Date(Date.UTC(2026, 11, 7, 12, 0, s));
const row = (
  handlers: string[],
  added: number | null,
  at: Partial<Record<'handled' | 'ranked' | 'received', number>>,
) => ({
  handlers,
  added,
  handled_at: t(at.handled ?? 0),
  ranked_at: at.ranked === undefined ? null : t(at.ranked),
  received_at: at.received === undefined ? null : t(at.received),
  consumer: at.received === undefined ? null : 'g-audit',
});
const times = (r: ReturnType<typeof row>) =>
  Object.fromEntries(
    handlerTimes(r).map((h) => [h.handler, h.at === null ? null : new Date(h.at).getUTCSeconds()]),
  );

describe('trace: when each handler applied an event (what the inbox row records)', () => {
  it('one write: every handler at handled_at, the audit one by its group', () => {
    const r = row(['audit', 'metrics', 'ranking'], null, { handled: 1, ranked: 1, received: 1 });
    expect(times(r)).toEqual({ audit: 1, metrics: 1, ranking: 1 });
    expect(handlerTimes(r)[0]).toMatchObject({ handler: 'audit', group: 'g-audit' });
  });

  it('two writes: the first at handled_at, the last write shares the time of the audit or ranking it holds', () => {
    // Group 1 (metrics, ranking) at 1 s, then group 2 (audit, cache-less) at 5 s.
    expect(times(row(['metrics', 'ranking', 'audit'], 1, { handled: 1, ranked: 1, received: 5 }))).toEqual({
      metrics: 1,
      ranking: 1,
      audit: 5,
    });
    // Group 1 (audit) at 1 s, then group 2 (metrics, ranking) at 7 s.
    expect(times(row(['audit', 'metrics', 'ranking'], 2, { handled: 1, ranked: 7, received: 1 }))).toEqual({
      audit: 1,
      metrics: 7,
      ranking: 7,
    });
  });

  it('a handler whose write has no recorded time says so (null), never a guess', () => {
    // audit at 1 s; then webhook alone (claimHandledEvents): its time is not recorded.
    expect(times(row(['audit', 'webhook'], 1, { handled: 1, received: 1 }))).toEqual({
      audit: 1,
      webhook: null,
    });
  });
});

describe('trace: ids and partitions', () => {
  it('checks ids: positive integers for orders and products, uuids for events (usage errors, exit 2)', () => {
    expect(checkId('order', '8123')).toBe('8123');
    expect(checkId('event', '3F0C2A9E-5B1D-4C8E-9F00-1A2B3C4D5E6F')).toBe(
      '3f0c2a9e-5b1d-4c8e-9f00-1a2b3c4d5e6f',
    );
    for (const [kind, id] of [
      ['order', '0'],
      ['order', '-1'],
      ['product', '1.5'],
      ['order', '1'.repeat(30)],
      ['event', 'nope'],
    ] as const)
      expect(() => checkId(kind, id), `${kind} ${id}`).toThrow(/is not an? (order|product|event) id/);
  });

  it("a key's partition is the relay producer's (kafkajs' default partitioner)", () => {
    const choose = Partitioners.DefaultPartitioner();
    for (const key of ['1', '42', '8123', 'abc']) {
      const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 0 }));
      expect(partitionOfKey(key, 3)).toBe(
        choose({ topic: 't', partitionMetadata: partitionMetadata as never, message: { key, value: null } }),
      );
    }
  });
});
