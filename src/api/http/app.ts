import Fastify, { type FastifyInstance } from 'fastify';
import { LocalCache } from '../domain/catalog/local-cache.js';
import type { ServiceDeps } from '../domain/deps.js';
import { ViewBuffer } from '../domain/views/view-buffer.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { installErrorHandlers } from './errors.js';
import { installMetrics } from './metrics.js';
import { catalogRoutes } from './routes/catalog.js';
import { healthRoutes } from './routes/health.js';
import { likeRoutes } from './routes/likes.js';
import { orderRoutes } from './routes/orders.js';
import { rankingRoutes } from './routes/rankings.js';

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiApp {
  app: FastifyInstance;
  views: ViewBuffer;
  /** Stops accepting, finishes in-flight requests, then flushes buffered views. Pools are the caller's. */
  close(): Promise<void>;
}

export interface BuildOptions {
  viewFlushIntervalMs?: number;
}

/**
 * The API as a fastify instance, usable in-process (tests, `commerce dev`) or by `api serve`.
 * The caller owns the pool and the Redis client and closes them after `close()`.
 */
export async function buildApp(given: ServiceDeps, options: BuildOptions = {}): Promise<ApiApp> {
  // One in-process cache shared by the routes, so the API's own writes evict what its reads cached.
  const deps: ServiceDeps = { ...given, local: given.local ?? new LocalCache(given.config.api.localCacheMs) };
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT_BYTES, return503OnClosing: true });
  const views = new ViewBuffer(deps, options.viewFlushIntervalMs);
  let closing: Promise<void> | undefined;
  // A keep-alive connection would hold close() open after its in-flight response: answers sent while
  // closing tell the client to hang up, so the connection ends with that response.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  installErrorHandlers(app, deps.logger);
  installMetrics(app, createRegistry({ service: 'api' }), deps.pool);
  healthRoutes(app, deps);
  await app.register(
    async (api) => {
      catalogRoutes(api, deps, views);
      likeRoutes(api, deps);
      orderRoutes(api, deps);
      rankingRoutes(api, deps);
    },
    { prefix: '/api/v1' },
  );
  views.start();
  return {
    app,
    views,
    close: () => (closing ??= app.close().then(() => views.stop())),
  };
}

/** Listens and returns the real address (port 0 picks a free port). */
export async function listen(api: ApiApp, host: string, port: number): Promise<string> {
  await api.app.listen({ host, port });
  const address = api.app.server.address();
  const realPort = typeof address === 'object' && address ? address.port : port;
  return `http://${host}:${realPort}`;
}
