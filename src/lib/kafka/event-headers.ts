import type { IHeaders } from 'kafkajs';
import { aggregateTypeOf, cloudEventAttributes, eventTypeOf, type WireEvent } from '../cloud-event.js';
import { headerString } from './dead-letter.js';

/**
 * The headers of every event message: the CloudEvents Kafka protocol binding's binary mode (the
 * message value is the event's data, our JSON envelope), so any CloudEvents consumer reads our topics
 * (lib/cloud-event.ts maps the envelope to the attributes; docs/wire-format.md).
 */
export const CE_HEADERS = {
  specversion: 'ce_specversion',
  id: 'ce_id',
  source: 'ce_source',
  type: 'ce_type',
  time: 'ce_time',
  subject: 'ce_subject',
  dataschema: 'ce_dataschema',
  /** Binary mode: the data's content type (`datacontenttype`), under Kafka's plain header name. */
  contentType: 'content-type',
} as const;

/**
 * The headers before CloudEvents (legacy), still sent during the change so readers of the previous
 * release keep working. Every reader in this repository reads both, preferring ce_* (readEventHeaders).
 * They go in the release after the one in which every consumer reads ce_* (docs/wire-format.md).
 */
export const EVENT_HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  aggregateType: 'aggregate-type',
  version: 'aggregate-version',
} as const;

/**
 * The headers the relay puts on an event message: the attributes of cloudEventAttributes (the one
 * mapping, shared with the webhook body) under their binary-mode names. Plain objects, not a
 * `CloudEvent` per message (the `cloudevents` package validates and freezes each one, which costs
 * more than the headers themselves); the tests parse these headers with the package's Kafka binding.
 */
export function eventHeaders(e: WireEvent & { version: number }, legacy = true): IHeaders {
  const a = cloudEventAttributes(e);
  const headers: IHeaders = {
    [CE_HEADERS.specversion]: a.specversion,
    [CE_HEADERS.id]: a.id,
    [CE_HEADERS.source]: a.source,
    [CE_HEADERS.type]: a.type,
    [CE_HEADERS.subject]: a.subject,
    [CE_HEADERS.dataschema]: a.dataschema,
    [CE_HEADERS.contentType]: a.datacontenttype,
  };
  if (a.time !== undefined) headers[CE_HEADERS.time] = a.time;
  if (!legacy) return headers;
  headers[EVENT_HEADERS.eventId] = e.eventId;
  headers[EVENT_HEADERS.eventType] = e.eventType;
  headers[EVENT_HEADERS.aggregateType] = e.aggregateType;
  headers[EVENT_HEADERS.version] = String(e.version);
  return headers;
}

/** What an event message's headers say about its event; a field neither header set carries is undefined. */
export interface EventHeaderFields {
  eventId?: string;
  eventType?: string;
  aggregateType?: string;
  /** ce_subject only (the Kafka key carries it too). */
  aggregateId?: string;
  /** The legacy aggregate-version only: after the legacy headers go, the envelope carries it. */
  version?: number;
}

/**
 * Reads an event message's headers, CloudEvents first, else the legacy ones: messages written by a
 * relay of the previous release (still in the topics, in dead letters, replayed) carry only those.
 */
export function readEventHeaders(headers: IHeaders | undefined): EventHeaderFields {
  const version = headerString(headers, EVENT_HEADERS.version);
  return {
    eventId: headerString(headers, CE_HEADERS.id) ?? headerString(headers, EVENT_HEADERS.eventId),
    eventType:
      eventTypeOf(headerString(headers, CE_HEADERS.type)) ?? headerString(headers, EVENT_HEADERS.eventType),
    aggregateType:
      aggregateTypeOf(headerString(headers, CE_HEADERS.source)) ??
      headerString(headers, EVENT_HEADERS.aggregateType),
    aggregateId: headerString(headers, CE_HEADERS.subject),
    version: version === undefined || !/^\d+$/.test(version) ? undefined : Number(version),
  };
}
