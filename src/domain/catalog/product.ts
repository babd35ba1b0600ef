import type { ProductRow } from './sql.js';

/** A product as the API shows it (money in minor units). */
export interface Product {
  id: number;
  brandId: number;
  brandName: string;
  name: string;
  description: string;
  price: number;
  stock: number;
  likeCount: number;
  createdAt: string;
  updatedAt: string;
}

export function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    brandId: row.brand_id,
    brandName: row.brand_name,
    name: row.name,
    description: row.description,
    price: row.price,
    stock: row.stock,
    likeCount: row.like_count,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}
