import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config.js';
import { envelopeSchema, type AggregateType } from './envelope.js';
import { AGGREGATE_OF, EVENT_TYPES, payloadSchemas, type EventType, type PayloadOf } from './payloads.js';

/** A validated event: the envelope with a payload typed by its event type. */
export type DomainEvent = {
  [T in EventType]: {
    eventId: string;
    eventType: T;
    aggregateType: AggregateType;
    aggregateId: string;
    version: number;
    schemaVersion: number;
    occurredAt: string;
    payload: PayloadOf<T>;
  };
}[EventType];

export type EventOf<T extends EventType> = Extract<DomainEvent, { eventType: T }>;

/** Why a message cannot be an event: it goes to the dead-letter topic and is never retried. */
export class PoisonMessageError extends Error {
  override name = 'PoisonMessageError';
}

/** Builds an event, validating its payload as the consumer will. */
export function createEvent<T extends EventType>(
  eventType: T,
  aggregateId: number | string,
  version: number,
  payload: PayloadOf<T>,
  occurredAt: Date = new Date(),
): EventOf<T> {
  const event = {
    eventId: randomUUID(),
    eventType,
    aggregateType: AGGREGATE_OF[eventType],
    aggregateId: String(aggregateId),
    version,
    schemaVersion: 1,
    occurredAt: occurredAt.toISOString(),
    payload,
  };
  return parseEvent(event) as EventOf<T>;
}

/** Validates an unknown value as an event; throws PoisonMessageError naming what is wrong. */
export function parseEvent(value: unknown): DomainEvent {
  const envelope = envelopeSchema.safeParse(value);
  if (!envelope.success) throw new PoisonMessageError(`invalid envelope: ${describe(envelope.error)}`);
  const { eventType } = envelope.data;
  if (!(EVENT_TYPES as string[]).includes(eventType)) {
    throw new PoisonMessageError(`unknown event type "${eventType}"`);
  }
  const type = eventType as EventType;
  if (envelope.data.aggregateType !== AGGREGATE_OF[type]) {
    throw new PoisonMessageError(`${type} must belong to a ${AGGREGATE_OF[type]} aggregate`);
  }
  const payload = payloadSchemas[type].safeParse(envelope.data.payload);
  if (!payload.success) throw new PoisonMessageError(`invalid ${type} payload: ${describe(payload.error)}`);
  return { ...envelope.data, eventType: type, payload: payload.data } as DomainEvent;
}

/** Decodes a Kafka message value (UTF-8 JSON) into an event; throws PoisonMessageError. */
export function decodeEvent(value: Buffer | string | null | undefined): DomainEvent {
  if (value === null || value === undefined || value.length === 0)
    throw new PoisonMessageError('empty message');
  let json: unknown;
  try {
    json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
  } catch {
    throw new PoisonMessageError('message is not valid JSON');
  }
  return parseEvent(json);
}

export function encodeEvent(event: DomainEvent): string {
  return JSON.stringify(event);
}

/** The topic an event goes to: product events to catalog-events, order events to order-events. */
export function topicFor(
  event: Pick<DomainEvent, 'aggregateType'>,
  topics: AppConfig['kafka']['topics'],
): string {
  return event.aggregateType === 'product' ? topics.catalog : topics.order;
}

function describe(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): string {
  return error.issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.map(String).join('.')}: ${i.message}` : i.message))
    .join('; ');
}
