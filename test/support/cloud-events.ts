import type { CloudEvent } from 'cloudevents';
import { Kafka, type KafkaMessage } from 'cloudevents';
import type { DomainEvent } from '../../src/lib/events/index.js';
import { schemaIdOf } from '../../src/lib/events/index.js';
import type { ReadMessage } from './topic-reader.js';

/**
 * A message read from an event topic as any CloudEvents consumer reads it: the `cloudevents` package's
 * Kafka binding (binary mode), validated. Throws when the message is not a valid CloudEvent.
 */
export function cloudEventOf(message: ReadMessage): CloudEvent<unknown> {
  const kafkaMessage = {
    key: message.key,
    value: message.value,
    headers: message.headers,
    body: message.value,
  } as unknown as KafkaMessage;
  if (!Kafka.isEvent(kafkaMessage)) throw new Error(`offset ${message.offset}: not a CloudEvent`);
  const event = Kafka.toEvent(kafkaMessage) as CloudEvent<unknown>;
  event.validate(); // throws naming what is wrong
  return event;
}

/** The CloudEvents attributes our relay gives an event (docs/wire-format.md). */
export function expectedAttributes(e: DomainEvent) {
  return {
    specversion: '1.0',
    id: e.eventId,
    source: `/commerce/${e.aggregateType}`,
    type: `commerce.${e.eventType}`,
    subject: e.aggregateId,
    time: e.occurredAt,
    dataschema: schemaIdOf(e.eventType, e.schemaVersion),
    datacontenttype: 'application/json',
  };
}

/** The attributes of a parsed CloudEvent that expectedAttributes names. */
export function pick(ce: CloudEvent<unknown>): ReturnType<typeof expectedAttributes> {
  return {
    specversion: ce.specversion,
    id: ce.id,
    source: ce.source,
    type: ce.type,
    subject: ce.subject!,
    time: ce.time!,
    dataschema: ce.dataschema!,
    datacontenttype: ce.datacontenttype!,
  };
}
