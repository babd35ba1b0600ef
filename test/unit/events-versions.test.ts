import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import {
  createEvent,
  decodeEvent,
  definitionsUpTo,
  encodeEvent,
  eventDecoder,
  EVENT_DEFINITIONS,
  EVENT_TYPES,
  PoisonMessageError,
  UnknownSchemaVersionError,
} from '../../src/lib/events/index.js';
import { processChunk } from '../../src/jobs/collector/process-chunk.js';
import { ChunkTurns } from '../../src/jobs/collector/ordered-steps.js';

/** An OrderCreated envelope as the API before v2 wrote it (no schemaVersion at all, or 1). */
const v1 = (orderId: number, schemaVersion?: number) => ({
  eventId: '6f1c7a52-7d35-4c4e-9a57-3f8e5b0a1c01'.replace(/01$/, String(orderId).padStart(2, '0').slice(-2)),
  eventType: 'OrderCreated',
  aggregateType: 'order',
  aggregateId: String(orderId),
  version: 1,
  ...(schemaVersion === undefined ? {} : { schemaVersion }),
  occurredAt: '2026-12-07T10:00:00.000Z',
  payload: {
    orderId,
    userId: 'u1',
    items: [
      { productId: 1, quantity: 2, unitPrice: 1000 },
      { productId: 2, quantity: 3, unitPrice: 250 },
    ],
    totalAmount: 2750,
  },
});

const v2 = (orderId: number) =>
  createEvent('OrderCreated', orderId, 1, {
    orderId,
    userId: 'u1',
    currency: 'KRW',
    items: [{ productId: 1, quantity: 2, unitPrice: 1000, lineTotal: 2000 }],
    totalAmount: 2000,
  });

const pinnedToV1 = eventDecoder(definitionsUpTo({ OrderCreated: 1 }));

describe('event versions', () => {
  it('createEvent writes the current version; OrderCreated is at v2', () => {
    expect(EVENT_DEFINITIONS.OrderCreated.current).toBe(2);
    expect(v2(1).schemaVersion).toBe(2);
    expect(createEvent('ProductViewed', 1, 1, { productId: 1, count: 1 }).schemaVersion).toBe(1);
  });

  it.each([undefined, 1])(
    'a v1 OrderCreated (schemaVersion %s) is upcast: currency USD, lineTotal = quantity × unitPrice',
    (schemaVersion) => {
      const event = decodeEvent(JSON.stringify(v1(7, schemaVersion)));
      expect(event.schemaVersion).toBe(2);
      expect(event.payload).toEqual({
        orderId: 7,
        userId: 'u1',
        currency: 'USD',
        items: [
          { productId: 1, quantity: 2, unitPrice: 1000, lineTotal: 2000 },
          { productId: 2, quantity: 3, unitPrice: 250, lineTotal: 750 },
        ],
        totalAmount: 2750,
      });
      // What an upcaster makes is a valid current payload.
      expect(EVENT_DEFINITIONS.OrderCreated.schema.safeParse(event.payload).success).toBe(true);
    },
  );

  it('a v2 OrderCreated reads as written', () => {
    const event = v2(8);
    expect(decodeEvent(encodeEvent(event))).toEqual(event);
  });

  it("validates an old event against its own version's schema, naming the version", () => {
    const bad = v1(9, 1);
    bad.payload.items[0]!.quantity = 0;
    expect(() => decodeEvent(JSON.stringify(bad))).toThrow(PoisonMessageError);
    expect(() => decodeEvent(JSON.stringify(bad))).toThrow(
      /invalid OrderCreated v1 payload: items.0.quantity/,
    );
    // A v2 event missing v2's required fields is poison, not upcast.
    expect(() => decodeEvent(JSON.stringify({ ...v1(9), schemaVersion: 2 }))).toThrow(
      /invalid OrderCreated v2 payload: currency/,
    );
  });

  it('a version newer than the build knows is UnknownSchemaVersionError (not poison), naming it', () => {
    const v3 = { ...encodeAsObject(v2(10)), schemaVersion: 3 };
    const err = catchError(() => decodeEvent(JSON.stringify(v3)));
    expect(err).toBeInstanceOf(UnknownSchemaVersionError);
    expect(err).not.toBeInstanceOf(PoisonMessageError);
    expect((err as Error).message).toBe('OrderCreated v3 is newer than this build reads (up to v2)');
  });

  it('a build that knows v1 only (the old reader) reads v1 as v1 and refuses v2 as unknown', () => {
    expect(pinnedToV1.decode(JSON.stringify(v1(11))).payload).toEqual(v1(11).payload);
    expect(pinnedToV1.decode(JSON.stringify(v1(11))).schemaVersion).toBe(1);
    expect(() => pinnedToV1.decode(encodeEvent(v2(12)))).toThrow(
      new UnknownSchemaVersionError('OrderCreated', 2, 1),
    );
    // The other types are untouched.
    const view = createEvent('ProductViewed', 1, 1, { productId: 1, count: 2 });
    expect(pinnedToV1.decode(encodeEvent(view))).toEqual(view);
  });

  it('every type has one upcaster per version below the current one', () => {
    for (const type of EVENT_TYPES) {
      const d = EVENT_DEFINITIONS[type];
      expect([...d.upcasters.keys()].sort()).toEqual(Array.from({ length: d.current - 1 }, (_, i) => i + 1));
      expect(d.versions).toHaveLength(d.current);
    }
  });
});

describe('the collector at a version it does not know', () => {
  const msg = (offset: number, value: string): KafkaMessage =>
    ({
      offset: String(offset),
      key: Buffer.from('1'),
      value: Buffer.from(value),
      headers: {},
    }) as KafkaMessage;
  const messages = [
    msg(0, JSON.stringify(v1(20))),
    msg(1, '{'), // poison before the hold: dead-lettered
    msg(2, encodeEvent(v2(21))), // too new for the old reader: held here
    msg(3, JSON.stringify(v1(22))), // after the hold: not applied
  ];

  it('applies what comes before, dead-letters nothing after, and reports the hold', async () => {
    const applied: string[] = [];
    const outcome = await processChunk(
      {
        decoder: pinnedToV1,
        maxAttempts: 1,
        backoff: { baseMs: 1, maxMs: 1 },
        signal: new AbortController().signal,
        heartbeat: async () => {},
        handle: async (events) => void applied.push(...events.map((e) => e.offset)),
      },
      { topic: 't', partition: 0 },
      messages,
    );
    expect(applied).toEqual(['0']);
    expect(outcome.letters.map((l) => [l.message.offset, l.kind])).toEqual([['1', 'poison']]);
    expect(outcome.held?.message.offset).toBe('2');
    expect(outcome.held?.error).toEqual(new UnknownSchemaVersionError('OrderCreated', 2, 1));
  });

  it('the new build reads the same chunk whole, v1 upcast', async () => {
    const applied: Array<[string, number]> = [];
    const outcome = await processChunk(
      {
        maxAttempts: 1,
        backoff: { baseMs: 1, maxMs: 1 },
        signal: new AbortController().signal,
        heartbeat: async () => {},
        handle: async (events) =>
          void applied.push(...events.map((e): [string, number] => [e.offset, e.event.schemaVersion])),
      },
      { topic: 't', partition: 0 },
      messages,
    );
    expect(outcome.held).toBeUndefined();
    expect(applied).toEqual([
      ['0', 2],
      ['2', 2],
      ['3', 2],
    ]);
  });

  it("a held chunk keeps the later chunks' order-sensitive steps from running", async () => {
    const turns = new ChunkTurns(new Set(['webhook']));
    const held = turns.next(async () => ({ complete: true, held: {} }));
    const later = turns.next(async (turn) => {
      await turn(['webhook']);
      return { complete: true };
    });
    await held;
    await expect(later).rejects.toThrow(/earlier chunk of this partition did not finish/);
  });
});

function encodeAsObject(event: object): Record<string, unknown> {
  return JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
}

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}
