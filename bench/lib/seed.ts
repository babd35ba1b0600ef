import type { Queryable } from '../../src/lib/db/query.js';

/** One brand and `count` products (ids 1..count on a fresh database) with stock no benchmark can exhaust. */
export async function seedProducts(db: Queryable, count: number): Promise<void> {
  await db.query(`INSERT INTO brands (name) VALUES ('bench-brand')`);
  await db.query(
    `INSERT INTO products (brand_id, name, price, stock)
     SELECT (SELECT min(id) FROM brands), 'product ' || i, 1000 + i, 1000000000 FROM generate_series(1, $1::int) i`,
    [count],
  );
}
