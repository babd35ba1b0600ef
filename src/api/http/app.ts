import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { ServiceDeps } from '../domain/deps.js';
import { ViewBuffer } from '../domain/views/view-buffer.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { installErrorHandlers } from './errors.js';
import { createCacheMetrics, installMetrics } from './metrics.js';
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
  /** The registry /metrics serves (`commerce dev` shares one with its relay and collector). */
  registry?: Registry;
}

/**
 * The API as a fastify instance, usable in-process (tests, `commerce dev`) or by `api serve`.
 * The caller owns the pool and the Redis client and closes them after `close()`.
 */
export async function buildApp(apiDeps: ServiceDeps, options: BuildOptions = {}): Promise<ApiApp> {
  const registry = options.registry ?? createRegistry({ service: 'api' });
  const deps: ServiceDeps = { ...apiDeps, cacheMetrics: createCacheMetrics(registry) };
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
  installMetrics(app, registry, deps.pool);
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
