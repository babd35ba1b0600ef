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

const userIdSchema = z.string().trim().min(1).max(100);

/** The caller of a user route, from `X-USER-ID`; 401 when missing or unusable. */
export function userIdOf(request: FastifyRequest): string {
  const result = userIdSchema.safeParse(request.headers['x-user-id']);
  if (!result.success) throw unauthorized('missing or invalid X-USER-ID header (1-100 characters)');
  return result.data;
}
