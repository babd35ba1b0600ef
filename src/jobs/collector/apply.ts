import type pg from 'pg';
import { exec, rows } from '../../lib/db/query.js';
import { withRetryingTransaction } from '../../lib/db/transaction.js';
import { foldDaily, foldProducts } from './fold.js';
import type { CollectorTestHooks } from './hooks.js';
import { RANKING_MARK_TTL_SECONDS } from '../../lib/ranking/live-ranking.js';
import {
  claimHandledEvents,
  insertEventLog,
  selectRecentlyHandled,
  upsertDailyMetrics,
  upsertProductMetrics,
  type LoggedEvent,
} from './sql.js';

export interface ApplyResult {
  applied: number;
  duplicates: number;
  /**
   * Events whose ranking increment may be (re)applied: the new ones, and duplicates first handled
   * recently enough that their ranking marks still exist. An older duplicate (a replay days later)
   * would find its mark expired and count twice, so it is left out.
   */
  rankable: Set<string>;
}

// Duplicates handled longer ago than this (the ranking marks' lifetime, less a margin) are not rankable.
const RANKABLE_DUPLICATE_SECONDS = RANKING_MARK_TTL_SECONDS - 3_600;

/**
 * The database effects of a batch, in ONE transaction: claim the events in event_handled (events
 * already there are skipped), then audit and metrics for the new ones only. A redelivered batch
 * therefore changes nothing, whether it is redelivered whole, in part, or out of order.
 */
export async function applyEvents(
  pool: pg.Pool,
  options: { consumer: string; timeZone: string; faultInjector?: CollectorTestHooks['faultInjector'] },
  logged: LoggedEvent[],
): Promise<ApplyResult> {
  const unique = dedupe(logged);
  if (unique.length === 0) return { applied: 0, duplicates: logged.length, rankable: new Set() };
  return withRetryingTransaction(pool, async (client) => {
    for (const l of unique) options.faultInjector?.(l.event);
    const claimed = await rows<{ event_id: string }>(
      client,
      claimHandledEvents(
        options.consumer,
        unique.map((l) => l.event.eventId),
      ),
    );
    const isNew = new Set(claimed.map((r) => r.event_id));
    const fresh = unique.filter((l) => isNew.has(l.event.eventId));
    if (fresh.length > 0) {
      const events = fresh.map((l) => l.event);
      await exec(client, insertEventLog(options.consumer, fresh));
      const products = foldProducts(events);
      if (products.length > 0) await exec(client, upsertProductMetrics(products));
      const daily = foldDaily(events, options.timeZone);
      if (daily.length > 0) await exec(client, upsertDailyMetrics(daily));
    }
    const rankable = new Set(isNew);
    const seen = unique.filter((l) => !isNew.has(l.event.eventId)).map((l) => l.event.eventId);
    if (seen.length > 0) {
      const recent = await rows<{ event_id: string }>(
        client,
        selectRecentlyHandled(options.consumer, seen, RANKABLE_DUPLICATE_SECONDS),
      );
      for (const r of recent) rankable.add(r.event_id);
    }
    return { applied: fresh.length, duplicates: logged.length - fresh.length, rankable };
  });
}

/** The same event twice in one batch counts once (the first delivery's position is audited). */
function dedupe(logged: LoggedEvent[]): LoggedEvent[] {
  const seen = new Set<string>();
  return logged.filter((l) => !seen.has(l.event.eventId) && seen.add(l.event.eventId));
}
