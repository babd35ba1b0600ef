import { sql } from '../../lib/db/query.js';

/** Statements over brands and products. Sort orders are fixed strings chosen by name, never user text. */
const PRODUCT_COLUMNS = `p.id, p.brand_id, b.name AS brand_name, p.name, p.description, p.price, p.stock,
  p.like_count, p.created_at, p.updated_at`;

export interface ProductRow {
  id: number;
  brand_id: number;
  brand_name: string;
  name: string;
  description: string;
  price: number;
  stock: number;
  like_count: number;
  created_at: Date;
  updated_at: Date;
}

export const PRODUCT_SORTS = {
  latest: 'p.created_at DESC, p.id DESC',
  price: 'p.price ASC, p.id ASC',
  likes: 'p.like_count DESC, p.id DESC',
} as const;
export type ProductSort = keyof typeof PRODUCT_SORTS;

export const insertBrand = (name: string, description: string) =>
  sql(
    'catalog.insert-brand',
    `INSERT INTO brands (name, description) VALUES ($1, $2) RETURNING id, name, description, created_at`,
    [name, description],
  );

/** A new product starts at version 1: its ProductCreated event. */
export const insertProduct = (p: {
  brandId: number;
  name: string;
  description: string;
  price: number;
  stock: number;
}) =>
  sql(
    'catalog.insert-product',
    `INSERT INTO products (brand_id, name, description, price, stock, version)
     VALUES ($1, $2, $3, $4, $5, 1) RETURNING id, version`,
    [p.brandId, p.name, p.description, p.price, p.stock],
  );

/** COALESCE keeps fields the PATCH did not name; the version moves with the change. */
export const updateProduct = (id: number, p: { name?: string; description?: string; price?: number }) =>
  sql(
    'catalog.update-product',
    `UPDATE products SET name = COALESCE($2, name), description = COALESCE($3, description),
       price = COALESCE($4, price), version = version + 1, updated_at = now()
     WHERE id = $1 RETURNING version`,
    [id, p.name ?? null, p.description ?? null, p.price ?? null],
  );

export const lockProductStock = (id: number) =>
  sql('catalog.lock-product-stock', `SELECT stock FROM products WHERE id = $1 FOR UPDATE`, [id]);

export const setProductStock = (id: number, stock: number) =>
  sql(
    'catalog.set-product-stock',
    `UPDATE products SET stock = $2, version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
    [id, stock],
  );

export const selectProduct = (id: number) =>
  sql(
    'catalog.select-product',
    `SELECT ${PRODUCT_COLUMNS} FROM products p JOIN brands b ON b.id = p.brand_id WHERE p.id = $1`,
    [id],
  );

export const selectProductsByIds = (ids: number[]) =>
  sql(
    'catalog.select-products-by-ids',
    `SELECT ${PRODUCT_COLUMNS} FROM products p JOIN brands b ON b.id = p.brand_id WHERE p.id = ANY($1::bigint[])`,
    [ids],
  );

export const selectProductPage = (sort: ProductSort, brandId: number | null, limit: number, offset: number) =>
  sql(
    `catalog.select-product-page-${sort}`,
    `SELECT ${PRODUCT_COLUMNS} FROM products p JOIN brands b ON b.id = p.brand_id
     WHERE ($1::bigint IS NULL OR p.brand_id = $1)
     ORDER BY ${PRODUCT_SORTS[sort]} LIMIT $2 OFFSET $3`,
    [brandId, limit, offset],
  );

export const countProducts = (brandId: number | null) =>
  sql(
    'catalog.count-products',
    `SELECT count(*)::int AS total FROM products WHERE ($1::bigint IS NULL OR brand_id = $1)`,
    [brandId],
  );
