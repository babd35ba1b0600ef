import type { CloudEvent } from 'cloudevents';
import { HTTP, Kafka, type KafkaMessage } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { occurredAtOf, structuredCloudEvent, topLevelString } from '../../src/lib/cloud-event.js';
import { createEvent, encodeEvent, orderCreatedFromV1 } from '../../src/lib/events/index.js';
import { eventHeaders, readEventHeaders } from '../../src/lib/kafka/event-headers.js';
import { parseRelayOptions } from '../../src/jobs/relay/options.js';

const event = createEvent(
  'OrderCreated',
  42,
  1,
  orderCreatedFromV1({
    orderId: 42,
    userId: 'u1',
    items: [{ productId: 7, quantity: 2, unitPrice: 500 }],
    totalAmount: 1000,
  }),
);

describe('occurredAtOf / topLevelString', () => {
  it('reads the top-level field, not a nested one of the same name, in any key order and format', () => {
    const at = '2026-12-07T17:19:55.123Z';
    // jsonb's output order (shorter keys first): the payload, with its own occurredAt, comes first.
    const jsonb = `{"eventId": "e1", "payload": {"occurredAt": "1999-01-01T00:00:00Z", "note": "a \\"occurredAt\\": \\"x\\" , }"}, "occurredAt": "${at}", "aggregateId": "1"}`;
    expect(occurredAtOf(jsonb)).toBe(at);
    expect(occurredAtOf(encodeEvent(event))).toBe(event.occurredAt);
    expect(occurredAtOf(`{"a": ["occurredAt", {"occurredAt": "no"}], "occurredAt" : "${at}"}`)).toBe(at);
    expect(topLevelString('{"k": "a\\u0041\\"b"}', 'k')).toBe('aA"b');
  });

  it('is undefined when the field is absent, not a string, or the text is not an object', () => {
    expect(occurredAtOf('{"payload": {"occurredAt": "nested only"}}')).toBeUndefined();
    expect(occurredAtOf('{"occurredAt": 12}')).toBeUndefined();
    expect(occurredAtOf('{"id":1}')).toBeUndefined();
    expect(occurredAtOf('{"occurredAt": "unterminated')).toBeUndefined();
    expect(occurredAtOf('')).toBeUndefined();
  });
});

const asStrings = (headers: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));

describe('eventHeaders (the relay)', () => {
  it("are the CloudEvents Kafka binding's binary mode: the package reads them back, valid", () => {
    const message = {
      key: event.aggregateId,
      value: encodeEvent(event),
      headers: asStrings(eventHeaders(event)),
    } as unknown as KafkaMessage;
    expect(Kafka.isEvent(message)).toBe(true);
    const ce = Kafka.toEvent(message) as CloudEvent<unknown>;
    expect(ce.validate()).toBe(true);
    expect(ce).toMatchObject({
      specversion: '1.0',
      id: event.eventId,
      source: '/commerce/order',
      type: 'commerce.OrderCreated',
      subject: '42',
      time: event.occurredAt,
      dataschema: 'urn:commerce:event:OrderCreated:v2',
      datacontenttype: 'application/json',
      data: event,
    });
  });

  it('keep the legacy headers during the change; readers prefer ce_* and fall back to them', () => {
    const headers = eventHeaders(event);
    expect(headers).toMatchObject({
      'event-id': event.eventId,
      'event-type': 'OrderCreated',
      'aggregate-type': 'order',
      'aggregate-version': '1',
    });
    const fields = { eventId: event.eventId, eventType: 'OrderCreated', aggregateType: 'order' };
    expect(readEventHeaders(headers)).toEqual({ ...fields, aggregateId: '42', version: 1 });
    const legacyOnly = Object.fromEntries(Object.entries(headers).filter(([k]) => !k.startsWith('ce_')));
    expect(readEventHeaders(legacyOnly)).toEqual({ ...fields, version: 1 });
    const ceOnly = { ...headers, 'event-id': 'stale', 'event-type': 'Other' };
    expect(readEventHeaders(ceOnly)).toMatchObject(fields);
  });

  it('without the legacy headers (relay run --no-legacy-headers): ce_* only, still read in full', () => {
    const headers = eventHeaders(event, false);
    expect(Object.keys(headers).filter((k) => !k.startsWith('ce_'))).toEqual(['content-type']);
    expect(readEventHeaders(headers)).toEqual({
      eventId: event.eventId,
      eventType: 'OrderCreated',
      aggregateType: 'order',
      aggregateId: '42',
    });
    expect(parseRelayOptions({}).legacyHeaders).toBe(true);
    expect(parseRelayOptions({ legacyHeaders: false }).legacyHeaders).toBe(false);
  });
});

describe('structuredCloudEvent (the webhook body)', () => {
  it("is a valid structured-mode CloudEvent whose data is the envelope, the Kafka message's attributes", () => {
    const ce = HTTP.toEvent({
      headers: { 'content-type': 'application/cloudevents+json; charset=utf-8' },
      body: structuredCloudEvent(event),
    }) as CloudEvent<unknown>;
    expect(ce.validate()).toBe(true);
    expect(ce).toMatchObject({ id: event.eventId, type: 'commerce.OrderCreated', data: event });
  });
});
