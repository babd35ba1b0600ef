import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { createEvent, encodeEvent } from '../../src/lib/events/index.js';
import { processChunk, type ChunkRunner } from '../../src/jobs/collector/process-chunk.js';

const at = { topic: 't', partition: 0 };
const message = (offset: number, value: string): KafkaMessage =>
  ({ offset: String(offset), key: Buffer.from('1'), value: Buffer.from(value), headers: {} }) as KafkaMessage;
const views = [1, 2, 3].map((v) => createEvent('ProductViewed', 1, v, { productId: 1, count: 1 }));
const messages = [
  message(0, encodeEvent(views[0]!)),
  message(1, '{'),
  ...views.slice(1).map((e, i) => message(i + 2, encodeEvent(e))),
];

function runner(handle: ChunkRunner['handle'], signal = new AbortController().signal): ChunkRunner {
  return { maxAttempts: 3, backoff: { baseMs: 1, maxMs: 2 }, signal, heartbeat: async () => {}, handle };
}

describe('processChunk', () => {
  it('dead-letters poison at once and, after the retries, only the event that fails on its own', async () => {
    const calls: number[] = [];
    const outcome = await processChunk(
      runner(async (events) => {
        calls.push(events.length);
        if (events.some((e) => e.event.version === 2)) throw new Error('boom');
      }),
      at,
      messages,
    );
    expect(outcome.complete).toBe(true);
    expect(outcome.letters.map((l) => [l.message.offset, l.kind, l.attempts])).toEqual([
      ['1', 'poison', 1],
      ['2', 'failed', 3],
    ]);
    expect(calls).toEqual([3, 3, 3, 1, 1, 1, 1, 1]); // 3 whole attempts, then one by one (v2 three times)
  });

  it('rethrows an unreachable database instead of dead-lettering', async () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    await expect(
      processChunk(
        runner(async () => Promise.reject(down)),
        at,
        messages,
      ),
    ).rejects.toBe(down);
  });

  it('reports an incomplete chunk when stopped during a retry backoff', async () => {
    const abort = new AbortController();
    const outcome = await processChunk(
      runner(async () => {
        abort.abort();
        throw new Error('boom');
      }, abort.signal),
      at,
      messages,
    );
    expect(outcome.complete).toBe(false);
  });

  it('dead-letters the events a handler refused (a webhook 400) with their status, after one call', async () => {
    let calls = 0;
    const outcome = await processChunk(
      runner(async (events) => {
        calls += 1;
        const refused = events.find((e) => e.event.version === 2)!;
        return [{ logged: refused, error: 'HTTP 400: unknown order', status: 400, attempts: 1 }];
      }),
      at,
      messages,
    );
    expect(calls).toBe(1);
    expect(outcome.complete).toBe(true);
    expect(outcome.letters.map((l) => [l.message.offset, l.kind, l.status ?? null])).toEqual([
      ['1', 'poison', null],
      ['2', 'rejected', 400],
    ]);
  });

  it('never dead-letters a Kafka error or a failure caused by a stop, even with one attempt', async () => {
    const rebalance = Object.assign(new Error('The group is rebalancing'), { name: 'KafkaJSProtocolError' });
    await expect(
      processChunk(
        runner(async () => Promise.reject(rebalance)),
        at,
        messages,
      ),
    ).rejects.toBe(rebalance);
    const abort = new AbortController();
    const stopped = await processChunk(
      {
        ...runner(async () => {
          abort.abort();
          throw new Error('collector stopping');
        }, abort.signal),
        maxAttempts: 1,
      },
      at,
      messages,
    );
    expect(stopped).toMatchObject({ complete: false });
    expect(stopped.letters.every((l) => l.kind === 'poison')).toBe(true);
  });
});
