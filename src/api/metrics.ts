import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CacheMetrics } from '../domain/deps.js';

/** The cache families of productCacheKeys, by key prefix: a bounded `cache` label. */
const CACHES = ['product:detail', 'product:list'] as const;

/**
 * A counter for a hot path: a caller adds to a plain number (`entry(labels).n++`), folded into
 * prom-client when the registry is scraped (collect), since prom-client's inc() hashes the label set
 * on every call. Each entry's series is exposed from its creation, at 0.
 */
function foldedCounter<L extends string>(
  config: { name: string; help: string; labelNames: readonly L[] },
  registry: Registry,
) {
  const entries: Array<{ labels: Record<L, string>; n: number }> = [];
  const counter = new Counter<L>({
    ...config,
    registers: [registry],
    collect() {
      for (const entry of entries) {
        if (entry.n === 0) continue;
        this.inc(entry.labels, entry.n);
        entry.n = 0;
      }
    },
  });
  return (labels: Record<L, string>) => {
    counter.inc(labels, 0);
    const entry = { labels, n: 0 };
    entries.push(entry);
    return entry;
  };
}

/**
 * `api_cache_requests_total{cache, result}`: product cache lookups, hit or miss (a miss includes
 * Redis being unavailable). Every child starts at 0 so rate() and hit ratios exist from the start.
 * A lookup is a plain addition (foldedCounter): the cached detail used to pay prom-client's inc().
 */
export function createCacheMetrics(registry: Registry): CacheMetrics {
  const lookups = foldedCounter(
    {
      name: 'api_cache_requests_total',
      help: 'Product cache lookups by cache (key family) and result (hit, miss).',
      labelNames: ['cache', 'result'],
    },
    registry,
  );
  const pending = new Map<string, { n: number }>();
  const track = (cache: string, result: string) => {
    const entry = lookups({ cache, result });
    pending.set(`${cache} ${result}`, entry);
    return entry;
  };
  for (const cache of CACHES) for (const result of ['hit', 'miss']) track(cache, result);
  return {
    record(key, hit) {
      const cache = CACHES.find((c) => key.startsWith(`${c}:`)) ?? 'other';
      const result = hit ? 'hit' : 'miss';
      (pending.get(`${cache} ${result}`) ?? track(cache, result)).n++;
    },
  };
}

/**
 * Prometheus metrics of the API: request count and latency by method, route template and status,
 * and PostgreSQL pool usage. Route templates (`/api/v1/products/:id`) keep label cardinality bounded.
 */
export function installMetrics(app: FastifyInstance, registry: Registry, pool: pg.Pool): void {
  const labelNames = ['method', 'route', 'status'] as const;
  type Observer = { observe(value: number): void };
  const requests = foldedCounter(
    { name: 'http_requests_total', help: 'HTTP requests served', labelNames },
    registry,
  );
  const children = new Map<string, { count: { n: number }; time: Observer }>();
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const poolGauge = new Gauge({
    name: 'pg_pool_connections',
    help: 'PostgreSQL pool connections by state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      this.set({ state: 'total' }, pool.totalCount);
      this.set({ state: 'idle' }, pool.idleCount);
      this.set({ state: 'waiting' }, pool.waitingCount);
    },
  });
  void poolGauge;

  // One entry per (method, route template, status), looked up by a string key: prom-client would
  // otherwise hash the label object on every request.
  app.addHook('onResponse', (request, reply, done) => {
    const method = request.method;
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    const key = `${method} ${route} ${status}`;
    let child = children.get(key);
    if (!child) {
      const labels = { method, route, status };
      child = { count: requests(labels), time: latency.labels(labels) };
      children.set(key, child);
    }
    child.count.n++;
    child.time.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
