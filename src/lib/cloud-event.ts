import { schemaIdOf } from './events/schema-id.js';

/**
 * Our events as CloudEvents 1.0 (issue 24; docs/wire-format.md): one mapping from the envelope to the
 * CloudEvents attributes, used by the relay's Kafka headers (binary mode, kafka/event-headers.ts) and
 * by the webhook body (structured mode). The envelope itself is the event's `data`.
 *
 * - `source` is `/commerce/<aggregateType>`: fixed, not configurable, because `source` + `id` is an
 *   event's identity for CloudEvents consumers (their dedupe key). Two relays (or a relay and its
 *   replacement during a rolling deploy) configured differently would publish one event as two.
 * - `type` is `commerce.<eventType>`, without the schema version: a version is a new shape of the same
 *   occurrence, and routing on `type` must not miss it. `dataschema` names the version
 *   (`urn:commerce:event:<eventType>:v<n>`, schemaIdOf), as the CloudEvents primer advises.
 * - `subject` is the aggregate id (the Kafka key), `time` the envelope's occurredAt.
 */
export const CE_SPEC_VERSION = '1.0';
export const CE_TYPE_PREFIX = 'commerce.';
export const CE_SOURCE_PREFIX = '/commerce/';
/** The content type of the data (the envelope): binary mode's `content-type` header. */
export const CE_DATA_CONTENT_TYPE = 'application/json';
/** The content type of a structured-mode event (the webhook body). */
export const CE_STRUCTURED_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

/** What the mapping reads: the envelope's fields (a DomainEvent has them all). */
export interface WireEvent {
  eventId: string;
  eventType: string;
  aggregateType: string;
  aggregateId: string;
  schemaVersion: number;
  /** RFC 3339 (the envelope's occurredAt); `time` is left out when unknown. */
  occurredAt?: string;
}

export interface CloudEventAttributes {
  specversion: string;
  id: string;
  source: string;
  type: string;
  subject: string;
  time?: string;
  dataschema: string;
  datacontenttype: string;
}

export function cloudEventSource(aggregateType: string): string {
  return CE_SOURCE_PREFIX + aggregateType;
}

export function cloudEventType(eventType: string): string {
  return CE_TYPE_PREFIX + eventType;
}

/** Our event type from a CloudEvents `type` (undefined when it is not one of ours). */
export function eventTypeOf(type: string | undefined): string | undefined {
  return type?.startsWith(CE_TYPE_PREFIX) ? type.slice(CE_TYPE_PREFIX.length) : undefined;
}

/** Our aggregate type from a CloudEvents `source` (undefined when it is not one of ours). */
export function aggregateTypeOf(source: string | undefined): string | undefined {
  return source?.startsWith(CE_SOURCE_PREFIX) ? source.slice(CE_SOURCE_PREFIX.length) : undefined;
}

export function cloudEventAttributes(e: WireEvent): CloudEventAttributes {
  const attributes: CloudEventAttributes = {
    specversion: CE_SPEC_VERSION,
    id: e.eventId,
    source: cloudEventSource(e.aggregateType),
    type: cloudEventType(e.eventType),
    subject: e.aggregateId,
    dataschema: schemaIdOf(e.eventType, e.schemaVersion),
    datacontenttype: CE_DATA_CONTENT_TYPE,
  };
  if (e.occurredAt !== undefined) attributes.time = e.occurredAt;
  return attributes;
}

/** The event in CloudEvents' structured JSON mode: its attributes, and the envelope as `data`. */
export function structuredCloudEvent(event: WireEvent): string {
  return JSON.stringify({ ...cloudEventAttributes(event), data: event });
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The envelope's occurredAt read from its JSON text (the outbox payload) without parsing it: the
 * relay publishes the text byte for byte and must not pay a JSON.parse per message for one header.
 */
export function occurredAtOf(envelopeJson: string): string | undefined {
  return topLevelString(envelopeJson, 'occurredAt');
}

/**
 * The value of a top-level string field of a JSON object's text: one scan that skips strings and
 * nested values (any key order, any formatting: jsonb's output and JSON.stringify's alike). Undefined
 * when the field is absent or not a string, or the text is not a JSON object. A value holding escapes
 * is unescaped through JSON.parse of that literal alone.
 */
export function topLevelString(json: string, name: string): string | undefined {
  const key = `"${name}"`;
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(json, i);
      if (end < 0) return undefined;
      // At depth 1 a string followed by ':' is a key (a value string is followed by ',' or '}').
      if (depth === 1 && end - i + 1 === key.length && json.startsWith(key, i)) {
        let j = skipSpace(json, end + 1);
        if (json.charCodeAt(j) === 0x3a /* : */) {
          j = skipSpace(json, j + 1);
          if (json.charCodeAt(j) !== QUOTE) return undefined;
          const valueEnd = stringEnd(json, j);
          if (valueEnd < 0) return undefined;
          const literal = json.slice(j, valueEnd + 1);
          return literal.includes('\\') ? (JSON.parse(literal) as string) : literal.slice(1, -1);
        }
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return undefined;
}

/** The index of the quote closing the string that opens at `start`, or -1. */
function stringEnd(json: string, start: number): number {
  let at = start;
  for (;;) {
    at = json.indexOf('"', at + 1);
    if (at < 0) return -1;
    let backslashes = 0;
    while (json.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
}

function skipSpace(json: string, at: number): number {
  while (at < json.length && json.charCodeAt(at) <= 0x20) at++;
  return at;
}
