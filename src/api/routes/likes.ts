import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../../domain/deps.js';
import { setLike } from '../../domain/likes/service.js';
import { userIdOf } from '../auth.js';
import { parseIdParam } from '../validate.js';

/** Likes by the X-USER-ID user; both verbs are idempotent and answer with the resulting state. */
export function likeRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.post('/products/:id/likes', async (request) => {
    const userId = userIdOf(request);
    return setLike(deps, userId, parseIdParam(request.params), true);
  });
  app.delete('/products/:id/likes', async (request) => {
    const userId = userIdOf(request);
    return setLike(deps, userId, parseIdParam(request.params), false);
  });
}
