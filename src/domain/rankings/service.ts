import { one, rows } from '../../lib/db/query.js';
import { unavailable } from '../errors.js';
import { dailyRankingKey } from '../../lib/ranking/score.js';
import { soft } from '../../lib/redis/soft.js';
import { compactDate, dateInZone } from '../../lib/time/dates.js';
import { toProduct, type Product } from '../catalog/product.js';
import { selectProductsByIds, type ProductRow } from '../catalog/sql.js';
import type { ServiceDeps } from '../deps.js';
import { periodOf, type RankingPeriod } from './period.js';
import { countRanks, selectRankPage } from './sql.js';

export interface RankingEntry {
  rank: number;
  score: number;
  product: Product | null;
}

export interface RankingPage {
  period: RankingPeriod;
  periodStart: string;
  periodEnd: string;
  page: number;
  size: number;
  total: number;
  items: RankingEntry[];
}

interface Ranked {
  rank: number;
  productId: number;
  score: number;
}

/**
 * Rankings with product details: daily from the live Redis sorted set the collector maintains,
 * weekly and monthly from the tables `commerce aggregate` materializes. Nothing ranked yet is an
 * empty page, not an error.
 */
export async function getRanking(
  deps: ServiceDeps,
  period: RankingPeriod,
  date: string | undefined,
  page: number,
  size: number,
): Promise<RankingPage> {
  const day = date ?? today(deps);
  const { start, end } = periodOf(period, day);
  const offset = (page - 1) * size;
  const { ranked, total } =
    period === 'daily'
      ? await dailyPage(deps, day, offset, size)
      : await storedPage(deps, period, start, offset, size);
  const products = await rows<ProductRow>(deps.pool, selectProductsByIds(ranked.map((r) => r.productId)));
  const byId = new Map(products.map((p) => [p.id, toProduct(p)]));
  const items = ranked.map((r) => ({ rank: r.rank, score: r.score, product: byId.get(r.productId) ?? null }));
  return { period, periodStart: start, periodEnd: end, page, size, total, items };
}

/**
 * The product's place in today's live ranking (1 = first), null when it is not ranked, undefined
 * when Redis did not answer (unavailable: an answer not to keep).
 */
export async function dailyRankOf(deps: ServiceDeps, productId: number): Promise<number | null | undefined> {
  const key = dailyRankingKey(compactDate(today(deps)));
  const rank = await soft(deps.redis, () => deps.redis.zrevrank(key, String(productId)), deps.logger);
  if (rank === undefined) return undefined;
  return rank === null ? null : rank + 1;
}

function today(deps: ServiceDeps): string {
  return dateInZone(new Date(), deps.config.timezone);
}

async function dailyPage(deps: ServiceDeps, day: string, offset: number, size: number) {
  const key = dailyRankingKey(compactDate(day));
  const result = await soft(
    deps.redis,
    () =>
      Promise.all([
        deps.redis.zrevrange(key, offset, offset + size - 1, 'WITHSCORES'),
        deps.redis.zcard(key),
      ]),
    deps.logger,
  );
  if (!result) throw unavailable('the daily ranking (Redis) is unavailable');
  const [flat, total] = result;
  const ranked: Ranked[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    ranked.push({ rank: offset + i / 2 + 1, productId: Number(flat[i]), score: Number(flat[i + 1]) });
  }
  return { ranked, total };
}

async function storedPage(
  deps: ServiceDeps,
  period: 'weekly' | 'monthly',
  start: string,
  offset: number,
  size: number,
) {
  const [page, count] = await Promise.all([
    rows<{ rank: number; product_id: number; score: number }>(
      deps.pool,
      selectRankPage(period, start, size, offset),
    ),
    one<{ total: number }>(deps.pool, countRanks(period, start)),
  ]);
  const ranked = page.map((r) => ({ rank: r.rank, productId: r.product_id, score: r.score }));
  return { ranked, total: count!.total };
}
