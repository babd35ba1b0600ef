import { sql } from '../../lib/db/query.js';

/** Statements over likes; the product's like_count and version move in the same transaction. */
export const lockProduct = (productId: number) =>
  sql('likes.lock-product', `SELECT like_count FROM products WHERE id = $1 FOR UPDATE`, [productId]);

export const insertLike = (userId: string, productId: number) =>
  sql(
    'likes.insert-like',
    `INSERT INTO likes (user_id, product_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING product_id`,
    [userId, productId],
  );

export const deleteLike = (userId: string, productId: number) =>
  sql('likes.delete-like', `DELETE FROM likes WHERE user_id = $1 AND product_id = $2 RETURNING product_id`, [
    userId,
    productId,
  ]);

export const bumpLikeCount = (productId: number, delta: 1 | -1) =>
  sql(
    'likes.bump-like-count',
    `UPDATE products SET like_count = like_count + $2, version = version + 1 WHERE id = $1
     RETURNING like_count, version`,
    [productId, delta],
  );
