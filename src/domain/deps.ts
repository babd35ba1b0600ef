import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../lib/config/config.js';
import type { Logger } from '../lib/log.js';
import type { GatewayClient } from '../lib/payments/gateway-client.js';
import type { LocalCache } from './catalog/local-cache.js';

/** What the domain services need; the API (and later `commerce dev`) passes its own. */
export interface ServiceDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  /** The payment gateway client; buildApp creates one from the configuration when not given. */
  gateway?: GatewayClient;
  /** Counts product cache hits and misses (the API's /metrics); absent in callers that do not serve it. */
  cacheMetrics?: CacheMetrics;
  /**
   * The API's in-process cache of product detail responses (product and dailyRank, local-cache.ts,
   * keyed by the detail's Redis key): buildApp gives one to its routes; without it every read goes to
   * Redis.
   */
  local?: LocalCache<string>;
}

export interface CacheMetrics {
  record(key: string, hit: boolean): void;
}

/** ServiceDeps once the gateway client is there (what the order and payment routes use). */
export type AppDeps = ServiceDeps & { gateway: GatewayClient };
