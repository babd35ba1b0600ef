import type { Redis } from 'ioredis';
import type { DomainEvent } from '../../lib/events/index.js';
import { evictProductDetail, evictProductLists } from '../../lib/cache/product-cache.js';
import { applyRankingIncrements, rankingIncrements } from '../../lib/ranking/live-ranking.js';
import type { RankingWeights } from '../../lib/ranking/score.js';

export interface Evictions {
  details: number[];
  lists: boolean;
}

/**
 * Which cached reads an event makes stale: a product's detail on a like, a stock change or an update;
 * every list when a product sells out or comes back (lists filter or order by availability).
 */
export function evictionsFor(events: DomainEvent[]): Evictions {
  const details = new Set<number>();
  let lists = false;
  for (const e of events) {
    if (e.eventType === 'LikeChanged' || e.eventType === 'ProductUpdated') {
      details.add(e.payload.productId);
    } else if (e.eventType === 'StockAdjusted') {
      details.add(e.payload.productId);
      const before = e.payload.newStock - e.payload.delta;
      if (e.payload.newStock === 0 || (before <= 0 && e.payload.newStock > 0)) lists = true;
    }
  }
  return { details: [...details].sort((a, b) => a - b), lists };
}

/**
 * The Redis handlers of a batch (`ranking`, `cache`, whichever the group runs), after its transaction
 * commits, for the events of the batch whether new or duplicate: a crash between the commit and this
 * step leaves the events marked handled, so the redelivery must still reach Redis. Both effects are
 * idempotent: evictions by nature, ranking increments by their mark keys, which is why only
 * `rankable` events (new, or handled recently enough that their marks still exist) are ranked.
 */
export async function applyRedisEffects(
  redis: Redis,
  events: DomainEvent[],
  options: {
    ranking?: { weights: RankingWeights; timeZone: string; rankable: Set<string> };
    cache: boolean;
  },
): Promise<{ rankingApplied: number }> {
  const { ranking } = options;
  const increments = ranking
    ? events
        .filter((e) => ranking.rankable.has(e.eventId))
        .flatMap((e) => rankingIncrements(e, ranking.weights, ranking.timeZone))
    : [];
  const { details, lists } = options.cache ? evictionsFor(events) : { details: [], lists: false };
  // Sent together: the client pipelines them on its one connection (one round trip, not one each).
  const [rankingApplied] = await Promise.all([
    applyRankingIncrements(redis, increments),
    ...details.map((id) => evictProductDetail(redis, id)),
    lists ? evictProductLists(redis) : undefined,
  ]);
  return { rankingApplied };
}
