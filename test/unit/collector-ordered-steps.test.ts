import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { createEvent, encodeEvent } from '../../src/lib/events/index.js';
import {
  EarlierChunkUnfinished,
  processChunk,
  type ChunkRunner,
} from '../../src/jobs/collector/process-chunk.js';
import { ChunkTurns, type Turn } from '../../src/jobs/collector/ordered-steps.js';
import type { HandlerName } from '../../src/jobs/collector/handlers.js';
import type { LoggedEvent } from '../../src/jobs/collector/sql.js';

const at = { topic: 't', partition: 0 };
/** Chunk `k` of product 1: versions 3k+1..3k+3 at offsets of the same numbers. */
const chunk = (k: number): KafkaMessage[] =>
  [1, 2, 3].map((i) => {
    const v = 3 * k + i;
    const value = encodeEvent(createEvent('ProductViewed', 1, v, { productId: 1, count: 1 }));
    return {
      offset: String(v),
      key: Buffer.from('1'),
      value: Buffer.from(value),
      headers: {},
    } as KafkaMessage;
  });
const tick = () => new Promise((r) => setTimeout(r, 2));

/**
 * A chunk's work as the batch handler does it: a commuting step (audit), then an order-sensitive one
 * (webhook) that logs the versions it "delivers"; `fail` decides, per call, whether the audit step throws.
 */
function runner(
  turn: Turn,
  log: string[],
  fail: (events: LoggedEvent[]) => Error | undefined = () => undefined,
  signal = new AbortController().signal,
): ChunkRunner {
  return {
    maxAttempts: 3,
    backoff: { baseMs: 5, maxMs: 10 },
    signal,
    heartbeat: async () => {},
    handle: async (events) => {
      await turn(['audit']);
      const versions = events.map((e) => e.event.version).join(',');
      log.push(`audit ${versions}`);
      await tick();
      const err = fail(events);
      if (err) throw err;
      await turn(['webhook']);
      log.push(`webhook ${versions}`);
      await tick();
    },
  };
}

const both: readonly HandlerName[] = ['audit', 'webhook'];

describe('ChunkTurns: order-sensitive steps of one partition in chunk order', () => {
  it('overlaps the commuting step, runs the webhook step of chunk 1 only after chunk 0 retried', async () => {
    const turns = new ChunkTurns(new Set(both));
    const log: string[] = [];
    let failures = 2;
    const failTwice = () => (failures-- > 0 ? new Error('flaky') : undefined);
    const outcomes = await Promise.all([
      turns.next((turn) => processChunk(runner(turn, log, failTwice), at, chunk(0))),
      turns.next((turn) => processChunk(runner(turn, log), at, chunk(1))),
    ]);
    expect(outcomes.map((o) => o.complete)).toEqual([true, true]);
    // Chunk 1's audit ran while chunk 0 was failing; its webhook only after chunk 0's.
    expect(log.indexOf('audit 4,5,6')).toBeLessThan(log.indexOf('webhook 1,2,3'));
    expect(log.filter((l) => l.startsWith('webhook'))).toEqual(['webhook 1,2,3', 'webhook 4,5,6']);
  });

  it('waits for the one-by-one narrowing of an earlier chunk (its failing event a dead letter)', async () => {
    const turns = new ChunkTurns(new Set(both));
    const log: string[] = [];
    const v2 = (events: LoggedEvent[]) =>
      events.some((e) => e.event.version === 2) ? new Error('v2 keeps failing') : undefined;
    const [first, second] = await Promise.all([
      turns.next((turn) => processChunk(runner(turn, log, v2), at, chunk(0))),
      turns.next((turn) => processChunk(runner(turn, log), at, chunk(1))),
    ]);
    expect(first!.letters.map((l) => [l.message.offset, l.kind])).toEqual([['2', 'failed']]);
    expect(second!.letters).toEqual([]);
    expect(log.filter((l) => l.startsWith('webhook'))).toEqual(['webhook 1', 'webhook 3', 'webhook 4,5,6']);
  });

  it('an earlier chunk that fails: the later one delivers nothing and dead-letters nothing', async () => {
    const turns = new ChunkTurns(new Set(both));
    const log: string[] = [];
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const results = await Promise.allSettled([
      turns.next((turn) =>
        processChunk(
          runner(turn, log, () => down),
          at,
          chunk(0),
        ),
      ),
      turns.next((turn) => processChunk(runner(turn, log), at, chunk(1))),
      turns.next((turn) => processChunk(runner(turn, log), at, chunk(2))),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: down });
    for (const later of results.slice(1)) {
      expect(later.status).toBe('rejected');
      expect((later as PromiseRejectedResult).reason).toBeInstanceOf(EarlierChunkUnfinished);
    }
    expect(log.filter((l) => l.startsWith('webhook'))).toEqual([]);
  });

  it('an earlier chunk stopped mid-retry: the later one is incomplete too, nothing delivered', async () => {
    const turns = new ChunkTurns(new Set(both));
    const log: string[] = [];
    const stop = new AbortController();
    const stopping = () => {
      stop.abort();
      return new Error('collector stopping');
    };
    const outcomes = await Promise.all([
      turns.next((turn) => processChunk(runner(turn, log, stopping, stop.signal), at, chunk(0))),
      turns.next((turn) => processChunk(runner(turn, log, undefined, stop.signal), at, chunk(1))),
    ]);
    expect(outcomes.map((o) => o.complete)).toEqual([false, false]);
    expect(log.filter((l) => l.startsWith('webhook'))).toEqual([]);
  });

  it('handlers that all commute never wait for an earlier chunk', async () => {
    const turns = new ChunkTurns(new Set<HandlerName>(['audit', 'metrics']));
    const log: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const first = turns.next(async (turn) => {
      await turn(['webhook']); // not run by this group: no wait
      await held;
      return { complete: true };
    });
    const second = turns.next(async (turn) => {
      await turn(['audit', 'metrics']);
      log.push('second');
      return { complete: true };
    });
    await second;
    expect(log).toEqual(['second']);
    release();
    await first;
  });
});
