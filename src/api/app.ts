import Fastify, { type FastifyInstance } from 'fastify';
import type { AppDeps, ServiceDeps } from '../domain/deps.js';
import { GatewayClient } from '../lib/payments/gateway-client.js';
import { createGatewayMetrics, type GatewayMetrics } from '../lib/payments/metrics.js';
import { gatewayClientOptions, paymentCallbackUrl } from '../lib/payments/options.js';
import { installPaymentMetrics } from './payment-metrics.js';
import { paymentRoutes } from './routes/payments.js';
import type { Registry } from 'prom-client';
import { LocalCache } from '../domain/catalog/local-cache.js';
import { ViewBuffer } from '../domain/views/view-buffer.js';
import { createRegistry } from '../lib/metrics/registry.js';
import { installErrorHandlers } from './errors.js';
import { createCacheMetrics, installMetrics } from './metrics.js';
import { catalogRoutes } from './routes/catalog.js';
import { healthRoutes } from './routes/health.js';
import { likeRoutes } from './routes/likes.js';
import { orderRoutes } from './routes/orders.js';
import { pointsRoutes } from './routes/points.js';
import { rankingRoutes } from './routes/rankings.js';

/** Request bodies larger than this are refused with 413 before they are parsed. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiApp {
  app: FastifyInstance;
  /** The services' dependencies, the gateway client included (listen() points its callbacks here). */
  deps: AppDeps;
  views: ViewBuffer;
  /** Stops accepting, finishes in-flight requests, then flushes buffered views. Pools are the caller's. */
  close(): Promise<void>;
}

export interface BuildOptions {
  viewFlushIntervalMs?: number;
  /** The registry /metrics serves (`commerce dev` shares one with its relay and collector). */
  registry?: Registry;
}

/** The gateway client the API uses unless the caller gave one: callbacks come to `callbackUrl`. */
function gatewayFor(deps: ServiceDeps, metrics: GatewayMetrics, apiUrl?: string): GatewayClient {
  const options = gatewayClientOptions(deps.config, paymentCallbackUrl(deps.config, apiUrl));
  return new GatewayClient(options, deps.logger, metrics);
}

const gatewayMetricsOf = new WeakMap<ApiApp, GatewayMetrics>();

/**
 * The API as a fastify instance, usable in-process (tests, `commerce dev`) or by `api serve`.
 * The caller owns the pool and the Redis client and closes them after `close()`.
 */
export async function buildApp(serviceDeps: ServiceDeps, options: BuildOptions = {}): Promise<ApiApp> {
  const registry = options.registry ?? createRegistry({ service: 'api' });
  const gatewayMetrics = createGatewayMetrics(registry);
  const givenGateway = serviceDeps.gateway !== undefined;
  // One object shared by every route, so listen() can swap in a client that knows the real port, and
  // one in-process cache, so the API's own writes evict what its reads cached.
  const deps: AppDeps = {
    ...serviceDeps,
    cacheMetrics: createCacheMetrics(registry),
    gateway: serviceDeps.gateway ?? gatewayFor(serviceDeps, gatewayMetrics),
    local: serviceDeps.local ?? new LocalCache(serviceDeps.config.api.localCacheMs),
  };
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
  installPaymentMetrics(registry, deps.pool);
  healthRoutes(app, deps);
  await app.register(
    async (api) => {
      catalogRoutes(api, deps, views);
      likeRoutes(api, deps);
      orderRoutes(api, deps);
      pointsRoutes(api, deps);
      rankingRoutes(api, deps);
      await paymentRoutes(api, deps, deps.config.gateway.secret);
    },
    { prefix: '/api/v1' },
  );
  views.start();
  const api: ApiApp = {
    app,
    deps,
    views,
    close: () => (closing ??= app.close().then(() => views.stop())),
  };
  if (!givenGateway) gatewayMetricsOf.set(api, gatewayMetrics);
  return api;
}

/** Listens and returns the real address (port 0 picks a free port). */
export async function listen(api: ApiApp, host: string, port: number): Promise<string> {
  await api.app.listen({ host, port });
  const address = api.app.server.address();
  const realPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host}:${realPort}`;
  // The gateway must call back the port we really listen on (port 0 picks one): a fresh client,
  // before any request could have used the old one.
  const metrics = gatewayMetricsOf.get(api);
  // (A wildcard address is not one a peer can call: this machine's loopback instead; set
  // PAYMENT_CALLBACK_URL wherever the gateway is not on this machine.)
  const reachable = ['0.0.0.0', '::', '[::]'].includes(host) ? `http://127.0.0.1:${realPort}` : url;
  if (metrics && !api.deps.config.gateway.callbackUrl)
    api.deps.gateway = gatewayFor(api.deps, metrics, reachable);
  return url;
}
