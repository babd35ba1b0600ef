import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config.js';
import { envelopeSchema, type AggregateType } from './envelope.js';
import { AGGREGATE_OF, EVENT_DEFINITIONS, type EventType, type PayloadOf } from './payloads.js';
import { truncateVersions, type EventDefinition } from './registry.js';

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

/**
 * An event whose schema version is newer than this build knows (a newer API wrote it during a rolling
 * deploy). Not a poison message, never guessed at: the collector holds the partition at it until a
 * collector that knows the version takes over (docs/event-evolution.md, "A version newer than the
 * reader").
 */
export class UnknownSchemaVersionError extends Error {
  override name = 'UnknownSchemaVersionError';
  constructor(
    readonly eventType: string,
    readonly schemaVersion: number,
    readonly known: number,
  ) {
    super(`${eventType} v${schemaVersion} is newer than this build reads (up to v${known})`);
  }
}

/** Builds an event at its type's current schema version, validating its payload as the consumer will. */
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
    schemaVersion: EVENT_DEFINITIONS[eventType].current,
    occurredAt: occurredAt.toISOString(),
    payload,
  };
  return parseEvent(event) as EventOf<T>;
}

/** Reads events: validates, then upcasts older versions to the current shape (registry.ts). */
export interface EventDecoder {
  /** Validates an unknown value as an event; throws PoisonMessageError or UnknownSchemaVersionError. */
  parse(value: unknown): DomainEvent;
  /** Decodes a Kafka message value (UTF-8 JSON) into an event; throws as parse does. */
  decode(value: Buffer | string | null | undefined): DomainEvent;
}

/**
 * A decoder over these definitions (default: every type at every version this build knows). Each
 * version's payload is validated by that version's schema, then upcast one version at a time to the
 * current one, so a handler only ever sees the current shape. An event already at the current version
 * costs one comparison more than before versions existed.
 */
export function eventDecoder(
  definitions: Readonly<Record<string, EventDefinition>> = EVENT_DEFINITIONS,
): EventDecoder {
  const parse = (value: unknown): DomainEvent => {
    const envelope = envelopeSchema.safeParse(value);
    if (!envelope.success) throw new PoisonMessageError(`invalid envelope: ${describe(envelope.error)}`);
    const { eventType, schemaVersion } = envelope.data;
    const definition = Object.hasOwn(definitions, eventType) ? definitions[eventType] : undefined;
    if (!definition) throw new PoisonMessageError(`unknown event type "${eventType}"`);
    if (envelope.data.aggregateType !== definition.aggregate) {
      throw new PoisonMessageError(`${eventType} must belong to a ${definition.aggregate} aggregate`);
    }
    if (schemaVersion > definition.current)
      throw new UnknownSchemaVersionError(eventType, schemaVersion, definition.current);
    const payload = definition.versions[schemaVersion - 1]!.safeParse(envelope.data.payload);
    if (!payload.success) {
      const at = schemaVersion === 1 && definition.current === 1 ? '' : ` v${schemaVersion}`;
      throw new PoisonMessageError(`invalid ${eventType}${at} payload: ${describe(payload.error)}`);
    }
    let data = payload.data;
    for (let v = schemaVersion; v < definition.current; v++) data = definition.upcasters.get(v)!(data);
    return { ...envelope.data, schemaVersion: definition.current, payload: data } as DomainEvent;
  };
  return {
    parse,
    decode(value) {
      if (value === null || value === undefined || value.length === 0)
        throw new PoisonMessageError('empty message');
      let json: unknown;
      try {
        json = JSON.parse(typeof value === 'string' ? value : value.toString('utf8'));
      } catch {
        throw new PoisonMessageError('message is not valid JSON');
      }
      return parse(json);
    },
  };
}

/**
 * The definitions as a build that knows only these versions has them (`{ OrderCreated: 1 }`: the
 * build before OrderCreated v2): a rolling deploy's old reader, in tests.
 */
export function definitionsUpTo(
  pins: Partial<Record<EventType, number>>,
): Readonly<Record<EventType, EventDefinition>> {
  const out = { ...EVENT_DEFINITIONS } as Record<EventType, EventDefinition>;
  for (const [type, max] of Object.entries(pins) as Array<[EventType, number]>)
    out[type] = truncateVersions(EVENT_DEFINITIONS[type], max);
  return out;
}

const defaultDecoder = eventDecoder();

/** Validates an unknown value as an event (see eventDecoder), upcast to the current version. */
export function parseEvent(value: unknown): DomainEvent {
  return defaultDecoder.parse(value);
}

/** Decodes a Kafka message value (UTF-8 JSON) into an event, upcast to the current version. */
export function decodeEvent(value: Buffer | string | null | undefined): DomainEvent {
  return defaultDecoder.decode(value);
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
