import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { exec, one } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { notFound } from '../errors.js';
import { evictProduct } from '../catalog/cache.js';
import type { ServiceDeps } from '../deps.js';
import { bumpLikeCount, deleteLike, insertLike, lockProduct } from './sql.js';

export interface LikeState {
  productId: number;
  liked: boolean;
  likeCount: number;
}

/**
 * Likes and unlikes, idempotent per user: liking twice is one like, unliking what is not liked is a
 * no-op. Only a real change bumps the count, the version and writes a LikeChanged event.
 */
export async function setLike(deps: ServiceDeps, userId: string, productId: number, liked: boolean) {
  const result = await withTransaction(deps.pool, async (client) => {
    // Locking the product first serializes likes of one product, so counts and versions stay in step.
    const product = await one<{ like_count: number }>(client, lockProduct(productId));
    if (!product) throw notFound('product', productId);
    const changed =
      (await exec(client, liked ? insertLike(userId, productId) : deleteLike(userId, productId))) > 0;
    if (!changed) return { state: { productId, liked, likeCount: product.like_count }, changed };
    const row = await one<{ like_count: number; version: number }>(
      client,
      bumpLikeCount(productId, liked ? 1 : -1),
    );
    const likeCount = row!.like_count;
    const event = createEvent('LikeChanged', productId, row!.version, {
      productId,
      userId,
      liked,
      likeCount,
    });
    await writeOutbox(client, [event], deps.config.kafka.topics);
    return { state: { productId, liked, likeCount }, changed };
  });
  if (result.changed) await evictProduct(deps, productId);
  return result.state satisfies LikeState;
}
