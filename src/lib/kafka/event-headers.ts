import type { IHeaders } from 'kafkajs';

/** Headers the relay puts on every event message, so tools can route and inspect without parsing. */
export const EVENT_HEADERS = {
  eventId: 'event-id',
  eventType: 'event-type',
  aggregateType: 'aggregate-type',
  version: 'aggregate-version',
} as const;

export function eventHeaders(e: {
  eventId: string;
  eventType: string;
  aggregateType: string;
  version: number;
}): IHeaders {
  return {
    [EVENT_HEADERS.eventId]: e.eventId,
    [EVENT_HEADERS.eventType]: e.eventType,
    [EVENT_HEADERS.aggregateType]: e.aggregateType,
    [EVENT_HEADERS.version]: String(e.version),
  };
}
