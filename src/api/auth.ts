import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { HttpError } from './errors.js';

const unauthorized = (message: string) => new HttpError(401, 'UNAUTHORIZED', message);

/**
 * Admin routes: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time (on digests, so the
 * lengths match too). An empty configured token refuses everyone. Runs on `onRequest`, before the body
 * is read, so an unauthenticated request changes nothing and learns nothing about its body.
 */
export function adminGuard(adminToken: string) {
  const expected = createHash('sha256').update(adminToken).digest();
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (!match) throw unauthorized('admin route: missing Authorization: Bearer token');
    const given = createHash('sha256').update(match[1]!).digest();
    if (adminToken === '' || !timingSafeEqual(given, expected))
      throw unauthorized('admin route: wrong token');
  };
}

/**
 * The one rule for user ids: 1-100 visible ASCII characters (`!` to `~`: letters, digits, punctuation;
 * no space, no control, nothing outside ASCII), taken exactly as sent. Nothing is trimmed or folded, so
 * `' alice '` is refused rather than read as `alice`, and no two distinct headers name the same user.
 * (A header sent twice reaches us joined by ", ", which the rule refuses too.)
 */
const userIdSchema = z.string().regex(/^[\x21-\x7e]{1,100}$/);

/** The caller of a user route, from `X-USER-ID`; 401 when missing or unusable. */
export function userIdOf(request: FastifyRequest): string {
  const result = userIdSchema.safeParse(request.headers['x-user-id']);
  if (!result.success)
    throw unauthorized('missing or invalid X-USER-ID header (1-100 visible ASCII characters, no spaces)');
  return result.data;
}
