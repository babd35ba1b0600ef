import { z } from 'zod';
import { EVENT_TOPICS } from '../config/config.js';
import { DLQ_HEADERS } from '../kafka/dead-letter.js';
import { envelopeSchema } from './envelope.js';
import { EVENT_DEFINITIONS, EVENT_TYPES, type EventType } from './payloads.js';
import { schemaIdOf } from './schema-id.js';

type Json = { [key: string]: unknown };

/** The event topics (default names; KAFKA_TOPIC_PREFIX prefixes them) by aggregate. */
export const TOPIC_OF = { product: EVENT_TOPICS.catalog, order: EVENT_TOPICS.order } as const;

/** What the message key is, per aggregate: the aggregate's id, so one aggregate keeps one partition. */
export const KEY_OF = { product: 'productId', order: 'orderId' } as const;

/**
 * The headers of an event message: the CloudEvents Kafka protocol binding's binary mode (`ce_*` and
 * `content-type`) and, while consumers move over, the headers from before it.
 */
export const EVENT_MESSAGE_HEADERS: Json = {
  type: 'object',
  description:
    'CloudEvents 1.0 Kafka protocol binding, binary content mode: the attributes as ce_* headers, the ' +
    'event data (the envelope) as the value. The legacy headers (event-id, event-type, aggregate-type, ' +
    'aggregate-version) stay during the change; docs/event-evolution.md says until when.',
  properties: {
    ce_specversion: { type: 'string', const: '1.0', description: 'CloudEvents specification version.' },
    ce_id: { type: 'string', format: 'uuid', description: 'The eventId: unique per event.' },
    ce_source: {
      type: 'string',
      enum: ['/commerce/product', '/commerce/order'],
      description: '/commerce/<aggregateType>: with ce_id, the identity of the event.',
    },
    ce_type: {
      type: 'string',
      pattern: '^commerce\\.[A-Za-z]+$',
      description: 'commerce.<eventType>, with no version (ce_dataschema carries it).',
    },
    ce_time: { type: 'string', format: 'date-time', description: 'occurredAt.' },
    ce_subject: { type: 'string', description: 'The aggregate id (the message key).' },
    ce_dataschema: {
      type: 'string',
      description: "The payload's schema at its version: urn:commerce:event:<type>:v<schemaVersion>.",
    },
    'content-type': { type: 'string', const: 'application/json' },
    'event-id': { type: 'string', format: 'uuid', description: 'Legacy: the eventId.' },
    'event-type': { type: 'string', description: 'Legacy: the eventType.' },
    'aggregate-type': { type: 'string', enum: ['product', 'order'], description: 'Legacy.' },
    'aggregate-version': { type: 'string', pattern: '^[0-9]+$', description: 'Legacy: version.' },
  },
  required: [
    'ce_specversion',
    'ce_id',
    'ce_source',
    'ce_type',
    'ce_subject',
    'ce_dataschema',
    'content-type',
  ],
};

/** Dead letters keep the original key, value and headers, and add these. */
const DEAD_LETTER_HEADERS: Json = {
  type: 'object',
  description: "The original message's headers, plus where it came from and why it failed.",
  properties: Object.fromEntries(Object.values(DLQ_HEADERS).map((name) => [name, { type: 'string' }])),
  required: [DLQ_HEADERS.originalTopic, DLQ_HEADERS.errorKind],
};

const messageId = (type: string, version: number) => `${type}.v${version}`;

/** An AsyncAPI schema (JSON Schema draft-07 compatible): the draft 2020-12 markers left out. */
function asyncApiSchema(schema: z.ZodType): Json {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io: 'input' }) as Json;
  return rest;
}

/**
 * The AsyncAPI 3 document of the event topics: per aggregate a channel (its topic, keyed by the
 * aggregate id) with every type at every version it may carry (older versions stay on the topic:
 * retention, dead-letter replays), its dead-letter channel, and the relay's and collector's
 * operations. Generated from the same zod definitions as the JSON Schemas.
 */
export function asyncApiDocument(): Json {
  const schemas: Json = { Envelope: envelope() };
  const messages: Json = {};
  const channels: Json = {};
  const operations: Json = {};
  for (const type of EVENT_TYPES) {
    const definition = EVENT_DEFINITIONS[type];
    for (let v = 1; v <= definition.current; v++) {
      const id = messageId(type, v);
      schemas[id] = { ...asyncApiSchema(definition.versions[v - 1]!), 'x-schema-id': schemaIdOf(type, v) };
      messages[id] = message(type, v);
    }
  }
  for (const aggregate of ['product', 'order'] as const) {
    const topic = TOPIC_OF[aggregate];
    const types = EVENT_TYPES.filter((t) => EVENT_DEFINITIONS[t].aggregate === aggregate);
    const refs = Object.fromEntries(
      types.flatMap((t) =>
        range(EVENT_DEFINITIONS[t].current).map((v) => [
          messageId(t, v),
          { $ref: `#/components/messages/${messageId(t, v)}` },
        ]),
      ),
    );
    const name = camel(topic);
    channels[name] = {
      address: topic,
      title: topic,
      description:
        `The ${aggregate} events, keyed by ${KEY_OF[aggregate]} (one aggregate, one partition, in ` +
        'commit order). Written by `relay run` from the outbox; read by `collector run`.',
      messages: refs,
    };
    channels[`${name}Dlq`] = {
      address: `${topic}.dlq`,
      title: `${topic}.dlq`,
      description: `Dead letters of ${topic}: the original key and value; \`dlq replay\` sends them back.`,
      messages: { deadLetter: { $ref: '#/components/messages/DeadLetter' } },
    };
    const channelRef = { $ref: `#/channels/${name}` };
    const messageRefs = Object.keys(refs).map((id) => ({ $ref: `#/channels/${name}/messages/${id}` }));
    operations[`relay${pascal(name)}`] = {
      action: 'send',
      channel: channelRef,
      summary: `The relay publishes committed ${aggregate} events.`,
      messages: messageRefs,
    };
    operations[`collect${pascal(name)}`] = {
      action: 'receive',
      channel: channelRef,
      summary: `The collector applies ${aggregate} events (older versions upcast to the current one).`,
      messages: messageRefs,
    };
    operations[`deadLetter${pascal(name)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${name}Dlq` },
      summary: 'The collector dead-letters what it cannot apply.',
      messages: [{ $ref: `#/channels/${name}Dlq/messages/deadLetter` }],
    };
  }
  messages.DeadLetter = {
    name: 'DeadLetter',
    title: 'A dead letter',
    contentType: 'application/json',
    headers: DEAD_LETTER_HEADERS,
    payload: { description: 'The original message value, untouched.' },
  };
  return {
    asyncapi: '3.1.0',
    info: {
      title: 'commerce events',
      version: '1.0.0',
      description:
        'The event topics of the commerce pipeline. Generated by `npm run schemas` from src/lib/events; ' +
        'do not edit by hand. The payload schemas are also published one per type and version as JSON ' +
        'Schema (draft 2020-12) under schemas/events/<Type>/v<N>.json.',
    },
    defaultContentType: 'application/json',
    channels,
    operations,
    components: { schemas, messages },
  };
}

function message(type: EventType, version: number): Json {
  const definition = EVENT_DEFINITIONS[type];
  const aggregate = definition.aggregate;
  return {
    name: type,
    title: `${type} v${version}`,
    summary:
      version === definition.current
        ? `${type}, current version.`
        : `${type} v${version}: still read (upcast to v${definition.current}).`,
    contentType: 'application/json',
    headers: EVENT_MESSAGE_HEADERS,
    payload: {
      allOf: [
        { $ref: '#/components/schemas/Envelope' },
        {
          type: 'object',
          properties: {
            eventType: { const: type },
            aggregateType: { const: aggregate },
            schemaVersion: version === 1 ? { enum: [1] } : { const: version },
            payload: { $ref: `#/components/schemas/${messageId(type, version)}` },
          },
        },
      ],
    },
    bindings: {
      kafka: {
        key: { type: 'string', pattern: '^[0-9]+$', description: `The ${KEY_OF[aggregate]} (aggregateId).` },
        bindingVersion: '0.5.0',
      },
    },
  };
}

/** The envelope, every type alike (schemaVersion absent means 1: written before versions existed). */
function envelope(): Json {
  return asyncApiSchema(envelopeSchema);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

function camel(topic: string): string {
  return topic.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}

function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
