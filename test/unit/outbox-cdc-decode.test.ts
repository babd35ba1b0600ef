import { describe, expect, it } from 'vitest';
import type { Pgoutput } from 'pg-logical-replication';
import { laterLsn, lsnToBigInt, outboxRowOf } from '../../src/lib/outbox/cdc/decode.js';

const relation = (name: string) => ({ tag: 'relation', name }) as unknown as Pgoutput.MessageRelation;

describe('CDC decoding', () => {
  it('an outbox insert becomes the claimed-event shape, the payload text kept byte for byte', () => {
    const payload = '{"eventId": "e1", "payload": {"price": 1.10}}';
    const row = outboxRowOf({
      tag: 'insert',
      relation: relation('outbox_event'),
      new: {
        id: '42',
        event_id: 'e1',
        aggregate_type: 'product',
        aggregate_id: '7',
        aggregate_version: '3',
        event_type: 'ProductViewed',
        topic: 'catalog-events',
        partition_key: '7',
        payload,
        attempt_count: '0',
        schema_version: '2',
      },
    });
    expect(row).toEqual({
      id: 42,
      eventId: 'e1',
      aggregateType: 'product',
      aggregateId: '7',
      version: 3,
      eventType: 'ProductViewed',
      topic: 'catalog-events',
      partitionKey: '7',
      value: payload,
      attemptCount: 0,
      schemaVersion: 2,
    });
  });

  it('a row inserted before migration 017 (no schema_version column in its relation) is version 1', () => {
    const row = outboxRowOf({
      tag: 'insert',
      relation: relation('outbox_event'),
      new: { id: '1', event_id: 'e1', aggregate_version: '1', payload: '{}' },
    });
    expect(row?.schemaVersion).toBe(1);
  });

  it('ignores other tables', () => {
    expect(outboxRowOf({ tag: 'insert', relation: relation('orders'), new: {} })).toBeUndefined();
  });

  it('compares LSNs by position, not by text', () => {
    expect(lsnToBigInt('1/0') > lsnToBigInt('0/FFFFFFFF')).toBe(true);
    expect(laterLsn('0/A0', '0/9F')).toBe('0/A0');
    expect(laterLsn('0/9F', '1/0')).toBe('1/0');
  });
});
