import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServiceDeps } from '../../domain/deps.js';
import { getUserPoints } from '../../domain/points/reads.js';
import { userIdOf } from '../auth.js';
import { parse } from '../validate.js';
import { paging } from '../schemas.js';

/** `?limit=N`: how many of the last entries (1-100, default 20), the rule of a page size. */
const pointsQuery = z.object({ limit: paging.size });

/** The X-USER-ID user's loyalty points: the balance and the last entries, each naming its order and event. */
export function pointsRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get('/users/me/points', async (request) => {
    const userId = userIdOf(request);
    const { limit } = parse(pointsQuery, request.query, 'query');
    return getUserPoints(deps, userId, limit);
  });
}
