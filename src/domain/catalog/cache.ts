import {
  evictProductDetail,
  evictProductDetailsAndLists,
  evictProductLists,
  productCacheKeys,
  productListGeneration,
} from '../../lib/cache/product-cache.js';
import { soft } from '../../lib/redis/soft.js';
import type { ServiceDeps } from '../deps.js';

/**
 * Cache-aside over Redis for product reads. Every Redis call is soft (see redis/soft.ts): when Redis
 * is down or slow, reads go to PostgreSQL and writes skip eviction (nothing was cached anyway, and
 * any entry that survives expires by its TTL).
 */
export async function cached<T>(deps: ServiceDeps, key: string, load: () => Promise<T | undefined>) {
  const json = await cachedJson(deps, key, load);
  return json === undefined ? undefined : (JSON.parse(json) as T);
}

/**
 * Cache-aside returning the cached JSON text itself: a hit is served without parsing and
 * re-serialising it (the hot path of a product detail).
 */
export async function cachedJson(
  deps: ServiceDeps,
  key: string,
  load: () => Promise<unknown>,
): Promise<string | undefined> {
  return (await cachedJsonEntry(deps, key, load)).json;
}

/** cachedJson, telling whether Redis holds the value (a hit, or stored after the load). */
export async function cachedJsonEntry(
  deps: ServiceDeps,
  key: string,
  load: () => Promise<unknown>,
): Promise<{ json: string | undefined; inRedis: boolean }> {
  const hit = await soft(deps.redis, () => deps.redis.get(key), deps.logger);
  // Redis down counts as a miss: the answer came from PostgreSQL.
  deps.cacheMetrics?.record(key, !!hit);
  if (hit) return { json: hit, inRedis: true };
  const value = await load();
  if (value === undefined) return { json: undefined, inRedis: false };
  const json = JSON.stringify(value);
  const ttl = deps.config.api.cacheTtlSeconds;
  const stored = await soft(deps.redis, () => deps.redis.set(key, json, 'EX', ttl), deps.logger);
  return { json, inRedis: stored !== undefined };
}

export function detailKey(productId: number): string {
  return productCacheKeys.detail(productId);
}

/** The list key for a query under the current generation; falls back to generation 0 without Redis. */
export async function listKey(deps: ServiceDeps, query: string): Promise<string> {
  const generation = (await soft(deps.redis, () => productListGeneration(deps.redis), deps.logger)) ?? 0;
  return productCacheKeys.list(generation, query);
}

/** After a write that changed what a product shows: its detail and every list are stale. */
export async function evictProduct(deps: ServiceDeps, productId: number): Promise<void> {
  deps.local?.delete(detailKey(productId));
  await Promise.all([
    soft(deps.redis, () => evictProductDetail(deps.redis, productId), deps.logger),
    soft(deps.redis, () => evictProductLists(deps.redis), deps.logger),
  ]);
}

export async function evictLists(deps: ServiceDeps): Promise<void> {
  await soft(deps.redis, () => evictProductLists(deps.redis), deps.logger);
}

/** evictProduct for several products at once: one Redis round trip (their details and the lists). */
export async function evictProducts(deps: ServiceDeps, productIds: number[]): Promise<void> {
  if (productIds.length === 0) return;
  for (const id of productIds) deps.local?.delete(detailKey(id));
  await soft(deps.redis, () => evictProductDetailsAndLists(deps.redis, productIds), deps.logger);
}
