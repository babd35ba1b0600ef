import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';

/** What the domain services need; the API (and later `commerce dev`) passes its own. */
export interface ServiceDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  /** Counts product cache hits and misses (the API's /metrics); absent in callers that do not serve it. */
  cacheMetrics?: CacheMetrics;
}

export interface CacheMetrics {
  record(key: string, hit: boolean): void;
}
