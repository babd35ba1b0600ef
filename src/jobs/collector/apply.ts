import type pg from 'pg';
import { exec, rows } from '../../lib/db/query.js';
import { withRetryingTransaction } from '../../lib/db/transaction.js';
import { foldDaily, foldProducts } from './fold.js';
import { RANKING_MARK_TTL_SECONDS } from '../../lib/ranking/live-ranking.js';
import { recordPoints } from '../../domain/points/ledger.js';
import type { HandlerSet } from './handlers.js';
import { claimEvents, upsertMetrics, type LoggedEvent } from './sql.js';

export interface ApplyResult {
  /** Events new to at least one of the group's database handlers (audit, metrics, ranking, points). */
  applied: number;
  duplicates: number;
  /**
   * Events whose ranking increment may be (re)applied: the new ones, and duplicates first handled
   * recently enough that their ranking marks still exist. An older duplicate (a replay days later)
   * would find its mark expired and count twice, so it is left out.
   */
  rankable: Set<string>;
  /** Ledger entries the points handler wrote. */
  pointsEntries: number;
}

// Duplicates handled longer ago than this (the ranking marks' lifetime, less a margin) are not rankable.
const RANKABLE_DUPLICATE_SECONDS = RANKING_MARK_TTL_SECONDS - 3_600;

/**
 * The database effects of the group's handlers for a batch, in ONE transaction: one statement adds the
 * group's database handlers (audit, metrics, ranking, points) to each event's inbox row (event_inbox;
 * audit writes its columns of that row) and returns, per handler, the events new to it; then metrics
 * folds only the events it claimed (one statement for both tables), and points writes the ledger
 * entries of the OrderPaid / PaymentRefunded it claimed (domain/points/ledger.ts). A redelivered batch
 * therefore changes nothing, whichever group redelivers it, whole, in part, or out of order. Each
 * handler's effect and mark commit together.
 */
export async function applyEvents(
  pool: pg.Pool,
  options: { group: string; handlers: HandlerSet; timeZone: string; pointsRateBasisPoints: number },
  logged: LoggedEvent[],
): Promise<ApplyResult> {
  const { handlers } = options;
  const unique = dedupe(logged);
  const claiming = (['audit', 'metrics', 'ranking', 'points'] as const).filter((h) => handlers.has(h));
  if (unique.length === 0 || claiming.length === 0)
    return {
      applied: unique.length,
      duplicates: logged.length - unique.length,
      rankable: new Set(),
      pointsEntries: 0,
    };
  return withRetryingTransaction(pool, async (client) => {
    const ids = unique.map((l) => l.event.eventId);
    const isNew = new Set<string>();
    const fresh = { metrics: new Set<string>(), ranking: new Set<string>(), points: new Set<string>() };
    const rankable = new Set<string>();
    const audit = handlers.has('audit') ? { group: options.group } : undefined;
    const ranking = handlers.has('ranking') ? RANKABLE_DUPLICATE_SECONDS : null;
    const claimed = await rows<{
      handler: 'audit' | 'metrics' | 'ranking' | 'points' | 'ranked-recently';
      ids: string[] | null;
    }>(client, claimEvents(claiming, unique, audit, ranking));
    for (const c of claimed) {
      if (c.handler === 'ranked-recently') {
        for (const id of c.ids ?? []) rankable.add(id);
        continue;
      }
      for (const id of c.ids ?? ids) {
        if (c.handler !== 'audit') fresh[c.handler].add(id);
        isNew.add(id);
      }
    }
    const toFold = unique.filter((l) => fresh.metrics.has(l.event.eventId)).map((l) => l.event);
    if (toFold.length > 0) {
      const products = foldProducts(toFold);
      const daily = foldDaily(toFold, options.timeZone);
      if (products.length > 0 || daily.length > 0) await exec(client, upsertMetrics(products, daily));
    }
    // After the metrics upsert: this takes locks (its orders) only once the transaction holds all the
    // others it will take, so a wait here never closes a cycle with another collector's transaction.
    const pointsEntries = handlers.has('points')
      ? await recordPoints(
          client,
          unique.filter((l) => fresh.points.has(l.event.eventId)).map((l) => l.event),
          options.pointsRateBasisPoints,
        )
      : 0;
    for (const id of fresh.ranking) rankable.add(id);
    return { applied: isNew.size, duplicates: logged.length - isNew.size, rankable, pointsEntries };
  });
}

/** The same event twice in one batch counts once (the first delivery's position is audited). */
export function dedupe(logged: LoggedEvent[]): LoggedEvent[] {
  const seen = new Set<string>();
  return logged.filter((l) => !seen.has(l.event.eventId) && seen.add(l.event.eventId));
}
