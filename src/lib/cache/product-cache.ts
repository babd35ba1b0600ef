import type { Redis } from 'ioredis';

/**
 * Product cache keys (under REDIS_KEY_PREFIX) and their eviction, shared by the API (which fills the
 * cache and evicts on its own writes) and the collector (which evicts on LikeChanged and sold-out).
 *
 * Lists are never deleted key by key (no KEYS/SCAN): every list key embeds the current list
 * generation, and eviction bumps the generation, so all old list entries become unreachable at once
 * and expire by their TTL.
 */
export const productCacheKeys = {
  detail: (productId: number | string) => `product:detail:${productId}`,
  listGeneration: () => 'product:list:generation',
  list: (generation: number | string, query: string) => `product:list:${generation}:${query}`,
};

/** Evicts one product's cached detail. */
export async function evictProductDetail(redis: Redis, productId: number | string): Promise<void> {
  await redis.del(productCacheKeys.detail(productId));
}

/**
 * Evicts several products' details and makes every list stale in one round trip (a pipeline: one DEL
 * of all detail keys, one INCR). A command that failed in the pipeline rejects, as a lone call would.
 */
export async function evictProductDetailsAndLists(
  redis: Redis,
  productIds: (number | string)[],
): Promise<void> {
  const results = await redis
    .pipeline()
    .del(...productIds.map((id) => productCacheKeys.detail(id)))
    .incr(productCacheKeys.listGeneration())
    .exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0]!;
}

/** Makes every cached product list stale by moving to the next generation. */
export async function evictProductLists(redis: Redis): Promise<void> {
  await redis.incr(productCacheKeys.listGeneration());
}

/** The current list generation (0 when none was ever set). */
export async function productListGeneration(redis: Redis): Promise<number> {
  return Number((await redis.get(productCacheKeys.listGeneration())) ?? 0);
}
