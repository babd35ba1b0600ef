import { z } from 'zod';

/**
 * The event envelope, defined once and validated at runtime on both sides of Kafka:
 * the API builds events with it, the collector parses them with it.
 */
export const envelopeSchema = z.object({
  eventId: z.uuid(),
  eventType: z.string().min(1),
  aggregateType: z.enum(['product', 'order']),
  aggregateId: z.string().regex(/^\d+$/, 'a numeric id'),
  // Increases by one with every event of the aggregate; consumers use it to ignore stale state.
  version: z.number().int().positive(),
  // The shape of the payload (issue 24): a new version for any change that could break a reader.
  // Events written before versions existed carry none and are version 1.
  schemaVersion: z.number().int().positive().default(1),
  occurredAt: z.iso.datetime({ offset: true }),
  payload: z.unknown(),
});

export type AggregateType = z.infer<typeof envelopeSchema>['aggregateType'];
