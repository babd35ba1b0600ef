import { one, rows } from '../../lib/db/query.js';
import { notFound } from '../errors.js';
import type { ServiceDeps } from '../deps.js';
import { cached, cachedJsonEntry, detailKey, listKey } from './cache.js';
import { toProduct, type Product } from './product.js';
import { dailyRankOf } from '../rankings/service.js';
import { countProducts, selectProduct, selectProductPage, type ProductRow, type ProductSort } from './sql.js';

/** Product reads, cache-aside: Redis first, PostgreSQL on a miss (or when Redis is unavailable). */
export async function getProduct(deps: ServiceDeps, id: number): Promise<Product> {
  return JSON.parse(await getProductJson(deps, id)) as Product;
}

/** A product as its JSON text (a cache hit is returned as stored); 404 when there is none. */
export async function getProductJson(deps: ServiceDeps, id: number): Promise<string> {
  return (await productJsonEntry(deps, id)).json;
}

async function productJsonEntry(deps: ServiceDeps, id: number): Promise<{ json: string; inRedis: boolean }> {
  const { json, inRedis } = await cachedJsonEntry(deps, detailKey(id), async () => {
    const row = await one<ProductRow>(deps.pool, selectProduct(id));
    return row ? toProduct(row) : undefined;
  });
  if (json === undefined) throw notFound('product', id);
  return { json, inRedis };
}

/**
 * The product detail response as served (`{...product, dailyRank}`), from the in-process cache when
 * it holds it: synchronous, so a hit costs a Map lookup and no promise, parse or string building.
 */
export function localProductDetail(deps: ServiceDeps, id: number): string | undefined {
  const key = detailKey(id);
  const body = deps.local?.get(key);
  if (body !== undefined) deps.cacheMetrics?.record(key, true); // a hit of the in-process copy of Redis
  return body;
}

/**
 * The product detail response when the in-process cache does not hold it (localProductDetail first):
 * the product's JSON object (cached text, never parsed) plus today's `dailyRank`, both read from Redis
 * together. The whole text is kept in process (API_LOCAL_CACHE_MS) only when Redis answered for both
 * parts: without Redis, reads stay PostgreSQL's. One entry for the two parts bounds the staleness of
 * each by the TTL, as before, and a hit rebuilds nothing.
 */
export async function loadProductDetail(deps: ServiceDeps, id: number): Promise<string> {
  const [{ json, inRedis }, rank] = await Promise.all([productJsonEntry(deps, id), dailyRankOf(deps, id)]);
  const body = `${json.slice(0, -1)},"dailyRank":${JSON.stringify(rank ?? null)}}`;
  if (inRedis && rank !== undefined) deps.local?.set(detailKey(id), body);
  return body;
}

export interface ProductQuery {
  sort: ProductSort;
  brandId?: number | undefined;
  page: number;
  size: number;
}

export interface Page<T> {
  items: T[];
  page: number;
  size: number;
  total: number;
}

export async function listProducts(deps: ServiceDeps, q: ProductQuery): Promise<Page<Product>> {
  const query = `sort=${q.sort}&brand=${q.brandId ?? ''}&page=${q.page}&size=${q.size}`;
  const page = await cached(deps, await listKey(deps, query), async () => {
    const brandId = q.brandId ?? null;
    const [items, count] = await Promise.all([
      rows<ProductRow>(deps.pool, selectProductPage(q.sort, brandId, q.size, (q.page - 1) * q.size)),
      one<{ total: number }>(deps.pool, countProducts(brandId)),
    ]);
    return { items: items.map(toProduct), page: q.page, size: q.size, total: count!.total };
  });
  return page!;
}
