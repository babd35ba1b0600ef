import type { Redis } from 'ioredis';
import type { AppConfig } from '../../src/lib/config/config.js';
import { buildApp, listen, type ApiApp } from '../../src/api/app.js';
import { createLogger } from '../../src/lib/log.js';
import { request } from '../../src/jobs/demo/http.js';
import { afterAll, beforeAll } from 'vitest';
import { createTestContext, type TestContext } from './context.js';
import { GATEWAY_SECRET, startGateway, type TestGateway } from './gateway.js';

export const ADMIN_TOKEN = 'test-admin-token';

/** An API started in-process on a free port, over the test context's database and Redis. */
export interface TestApi {
  url: string;
  api: ApiApp;
  /** fetch under /api/v1 (or at the root for paths starting with '//'), JSON in and out. */
  call(method: string, path: string, options?: CallOptions): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  close(): Promise<void>;
}

export interface CallOptions {
  body?: unknown;
  /** Sent as is (for malformed JSON and oversized bodies). */
  raw?: string;
  user?: string;
  admin?: boolean;
  headers?: Record<string, string>;
}

export async function startApi(
  ctx: TestContext,
  options: { config?: AppConfig; redis?: Redis; viewFlushIntervalMs?: number } = {},
): Promise<TestApi> {
  const config = options.config ?? ctx.configWith({ ADMIN_TOKEN });
  const deps = { config, pool: ctx.pool, redis: options.redis ?? ctx.redis, logger: createLogger('warn') };
  const api = await buildApp(deps, { viewFlushIntervalMs: options.viewFlushIntervalMs ?? 60_000 });
  const url = await listen(api, '127.0.0.1', 0);
  return {
    url,
    api,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.body !== undefined || o.raw !== undefined) headers['content-type'] = 'application/json';
      if (o.user) headers['x-user-id'] = o.user;
      if (o.admin) headers.authorization = `Bearer ${ADMIN_TOKEN}`;
      const full = path.startsWith('//') ? url + path.slice(1) : `${url}/api/v1${path}`;
      const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
      return request(full, { method, headers, body });
    },
    close: () => api.close(),
  };
}

export interface OutboxRow {
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  topic: string;
  partition_key: string;
  payload: { payload: Record<string, unknown>; version: number; eventType: string };
}

/** The outbox rows in commit order, optionally only those after a given id. */
export async function outboxRows(ctx: TestContext, afterId = 0): Promise<OutboxRow[]> {
  const { rows } = await ctx.pool.query<OutboxRow>(
    `SELECT event_type, aggregate_type, aggregate_id, aggregate_version, topic, partition_key, payload
     FROM outbox_event WHERE id > $1 ORDER BY id`,
    [afterId],
  );
  return rows;
}

export async function lastOutboxId(ctx: TestContext): Promise<number> {
  const { rows } = await ctx.pool.query<{ id: number | null }>(`SELECT max(id) AS id FROM outbox_event`);
  return rows[0]!.id ?? 0;
}

/** A brand and a product created through the API (admin). */
export async function seedProduct(
  api: TestApi,
  product: { name?: string; price?: number; stock?: number; brandId?: number } = {},
): Promise<{ id: number; brandId: number }> {
  let brandId = product.brandId;
  if (!brandId) {
    const brand = await api.call('POST', '/brands', { admin: true, body: { name: `b-${Math.random()}` } });
    brandId = brand.body.id as number;
  }
  const res = await api.call('POST', '/products', {
    admin: true,
    body: { brandId, name: product.name ?? 'p', price: product.price ?? 1000, stock: product.stock ?? 10 },
  });
  if (res.status !== 201) throw new Error(`seed failed: ${JSON.stringify(res.body)}`);
  return { id: res.body.id, brandId: brandId! };
}

/**
 * Registers beforeAll/afterAll for a test file: its own context and an in-process API over it; with
 * `gateway` flags, a real `gateway serve` process the API pays through (started first).
 */
export function useTestApi(options: { gateway?: string[]; env?: Record<string, string> } = {}): {
  ctx: TestContext;
  api: TestApi;
  gateway: TestGateway;
} {
  const state = {} as { ctx: TestContext; api: TestApi; gateway: TestGateway };
  beforeAll(async () => {
    state.ctx = await createTestContext({ topics: false });
    const env: Record<string, string> = { ADMIN_TOKEN, ...options.env };
    if (options.gateway) {
      state.gateway = await startGateway(options.gateway);
      Object.assign(env, { GATEWAY_URL: state.gateway.url, GATEWAY_SECRET });
    }
    state.api = await startApi(state.ctx, { config: state.ctx.configWith(env) });
  }, 60_000);
  afterAll(async () => {
    await state.api?.close();
    await state.gateway?.stop();
    await state.ctx?.close();
  });
  return state;
}
