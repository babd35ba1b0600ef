import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CacheMetrics } from '../domain/deps.js';

/** The cache families of productCacheKeys, by key prefix: a bounded `cache` label. */
const CACHES = ['product:detail', 'product:list'] as const;

/**
 * `api_cache_requests_total{cache, result}`: product cache lookups, hit or miss (a miss includes
 * Redis being unavailable). Every child starts at 0 so rate() and hit ratios exist from the start.
 * A lookup adds 1 to a plain number, folded into the counter when it is scraped (collect): prom-client's
 * inc() hashes the label set on every call, a cost the cached detail paid twice per request.
 */
export function createCacheMetrics(registry: Registry): CacheMetrics {
  const pending = new Map<string, { labels: { cache: string; result: string }; n: number }>();
  const lookups = new Counter({
    name: 'api_cache_requests_total',
    help: 'Product cache lookups by cache (key family) and result (hit, miss).',
    labelNames: ['cache', 'result'],
    registers: [registry],
    collect() {
      for (const p of pending.values()) {
        if (p.n === 0) continue;
        this.inc(p.labels, p.n);
        p.n = 0;
      }
    },
  });
  const track = (cache: string, result: string) => {
    const labels = { cache, result };
    lookups.inc(labels, 0);
    const entry = { labels, n: 0 };
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
  type Label = (typeof labelNames)[number];
  type Observer = { observe(value: number): void };
  // Requests are counted in plain numbers and folded into the counter when it is scraped (as above).
  const children = new Map<string, { labels: Record<Label, string>; n: number; time: Observer }>();
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests served',
    labelNames,
    registers: [registry],
    collect() {
      for (const child of children.values()) {
        if (child.n === 0) continue;
        this.inc(child.labels, child.n);
        child.n = 0;
      }
    },
  });
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
      child = { labels, n: 0, time: latency.labels(labels) };
      children.set(key, child);
    }
    child.n++;
    child.time.observe(reply.elapsedTime / 1000);
    done();
  });

  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', registry.contentType);
    return registry.metrics();
  });
}
