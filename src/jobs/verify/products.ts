import type pg from 'pg';
import { forEachChunk } from '../../lib/db/cursor.js';
import type { Difference } from './report.js';
import { selectProductChecks } from './sql.js';

interface ProductCheckRow {
  product_id: string;
  has_metrics: boolean;
  like_count: string | null;
  stock: number | null;
  sales_count: string | null;
  sales_amount: string | null;
  view_count: string | null;
  expected_stock: number;
  expected_likes: string;
  expected_units: string;
  expected_amount: string;
  expected_views: string;
  daily_views: string;
  daily_likes: string;
  daily_units: string;
  daily_amount: string;
}

/**
 * product_metrics against likes, products.stock, order items and ProductViewed events, and the daily
 * rows summed against the same sources (so, when both are right, against product_metrics), streamed product by product. Products in `inFlight` are skipped.
 * A product without a metrics row reads as zeros and no stock (a row never written is a difference).
 */
export async function checkProducts(
  client: pg.PoolClient,
  options: {
    ids: number[] | null;
    since: string | null;
    timeZone: string;
    chunkSize: number;
    inFlight: Set<number>;
  },
  onProgress: (products: number) => void,
): Promise<{ checked: number; differences: Difference[] }> {
  const differences: Difference[] = [];
  let checked = 0;
  const q = selectProductChecks(options.ids, options.since, options.timeZone);
  await forEachChunk<ProductCheckRow>(client, q, options.chunkSize, (chunk) => {
    for (const r of chunk) {
      const productId = Number(r.product_id);
      if (options.inFlight.has(productId)) continue;
      checked += 1;
      const metrics = {
        like_count: r.like_count ?? '0',
        stock: r.stock === null ? null : String(r.stock),
        sales_count: r.sales_count ?? '0',
        sales_amount: r.sales_amount ?? '0',
        view_count: r.view_count ?? '0',
      };
      const compare = (
        check: 'metrics' | 'daily',
        field: string,
        expected: string | null,
        actual: string | null,
      ) => {
        if (expected !== actual) differences.push({ check, productId, field, expected, actual });
      };
      compare('metrics', 'like_count', r.expected_likes, metrics.like_count);
      compare('metrics', 'stock', String(r.expected_stock), metrics.stock);
      compare('metrics', 'sales_count', r.expected_units, metrics.sales_count);
      compare('metrics', 'sales_amount', r.expected_amount, metrics.sales_amount);
      compare('metrics', 'view_count', r.expected_views, metrics.view_count);
      // The daily rows summed must equal the totals; compared with the same sources as the totals, so
      // a wrong total is not reported against the daily rows too (net likes per day sum to the count).
      compare('daily', 'view_count', r.expected_views, r.daily_views);
      compare('daily', 'like_count', r.expected_likes, r.daily_likes);
      compare('daily', 'sales_count', r.expected_units, r.daily_units);
      compare('daily', 'sales_amount', r.expected_amount, r.daily_amount);
    }
    onProgress(checked);
  });
  return { checked, differences };
}
