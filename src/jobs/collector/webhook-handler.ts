import type pg from 'pg';
import { exec, rows } from '../../lib/db/query.js';
import type { WebhookStep } from './handlers.js';
import type { Rejection } from './process-chunk.js';
import { dedupe } from './apply.js';
import { claimHandledEvents, selectHandledBy } from '../../lib/handled/sql.js';
import type { DeliveryOutcome, WebhookSender } from './webhook/sender.js';

/**
 * The `webhook` handler's step for a chunk. Its mark (event id, 'webhook') is written only once the
 * receiver acknowledged the event (2xx), so a crash re-sends at most the events delivered but not yet
 * marked, with the same event id header (receivers deduplicate on it); an event already marked, by
 * whatever group, is not sent again. A receiver that is down keeps `deliver` retrying (heartbeating the
 * consumer through `heartbeat`), then giving up for now (ReceiverDownError), which pauses this group's
 * partition; nothing is skipped. Refused
 * events (4xx) are returned, unmarked: they become dead letters, and a `dlq replay` sends them again.
 */
export function createWebhookStep(
  pool: pg.Pool,
  sender: Pick<WebhookSender, 'deliver'>,
  eventTypes: ReadonlySet<string> | null,
): WebhookStep {
  return async (logged, heartbeat, signal) => {
    const selected = dedupe(logged).filter((l) => eventTypes === null || eventTypes.has(l.event.eventType));
    if (selected.length === 0) return [];
    const done = await rows<{ event_id: string }>(
      pool,
      selectHandledBy(
        'webhook',
        selected.map((l) => l.event.eventId),
      ),
    );
    const delivered = new Set(done.map((d) => d.event_id));
    const pending = selected.filter((l) => !delivered.has(l.event.eventId));
    if (pending.length === 0) return [];
    const outcomes = new Map<string, DeliveryOutcome>();
    try {
      await sender.deliver(
        pending.map((l) => l.event),
        signal,
        heartbeat,
        outcomes,
      );
    } finally {
      // Also when delivery stopped part way (receiver down, rebalance): what was acknowledged is not re-sent.
      const acknowledged = pending.filter((l) => outcomes.get(l.event.eventId)?.kind === 'delivered');
      if (acknowledged.length > 0)
        await exec(
          pool,
          claimHandledEvents(
            ['webhook'],
            acknowledged.map((l) => l.event.eventId),
          ),
        );
    }
    const rejected: Rejection[] = [];
    for (const l of pending) {
      const outcome = outcomes.get(l.event.eventId);
      if (outcome?.kind === 'rejected')
        rejected.push({
          logged: l,
          error: outcome.error,
          status: outcome.status,
          attempts: outcome.attempts,
        });
    }
    return rejected;
  };
}
