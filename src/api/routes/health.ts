import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../../domain/deps.js';
import { soft } from '../../lib/redis/soft.js';

/** Liveness (the process answers) and readiness (PostgreSQL and Redis both answer). */
export function healthRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const [postgres, redis] = await Promise.all([
      deps.pool.query('SELECT 1').then(
        () => 'up' as const,
        () => 'down' as const,
      ),
      soft(deps.redis, () => deps.redis.ping(), deps.logger, 1_000).then((pong) =>
        pong === 'PONG' ? 'up' : 'down',
      ),
    ]);
    const ready = postgres === 'up' && redis === 'up';
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', postgres, redis });
  });
}
