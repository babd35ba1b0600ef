import { one, rows } from '../../../lib/db/query.js';
import { notFound } from '../errors.js';
import type { ServiceDeps } from '../deps.js';
import { cached, cachedJsonEntry, detailKey, listKey } from './cache.js';
import { toProduct, type Product } from './product.js';
import { countProducts, selectProduct, selectProductPage, type ProductRow, type ProductSort } from './sql.js';

/** Product reads, cache-aside: Redis first, PostgreSQL on a miss (or when Redis is unavailable). */
export async function getProduct(deps: ServiceDeps, id: number): Promise<Product> {
  return JSON.parse(await getProductJson(deps, id)) as Product;
}

/** A product as its JSON text (a cache hit is returned as stored); 404 when there is none. */
export async function getProductJson(deps: ServiceDeps, id: number): Promise<string> {
  const key = detailKey(id);
  const local = deps.local?.get(key);
  if (typeof local === 'string') {
    deps.cacheMetrics?.record(key, true); // a hit of the in-process copy of what Redis holds
    return local;
  }
  const { json, inRedis } = await cachedJsonEntry(deps, key, async () => {
    const row = await one<ProductRow>(deps.pool, selectProduct(id));
    return row ? toProduct(row) : undefined;
  });
  if (json === undefined) throw notFound('product', id);
  // Only what Redis holds is kept in front of it: without Redis, reads stay PostgreSQL's.
  if (inRedis) deps.local?.set(key, json);
  return json;
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
