import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../../lib/config/config.js';
import type { Logger } from '../../lib/log.js';
import type { LocalCache } from './catalog/local-cache.js';

/** What the domain services need; the API (and later `commerce dev`) passes its own. */
export interface ServiceDeps {
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  logger: Logger;
  /**
   * The API's in-process cache of product details and detail ranks (local-cache.ts): buildApp gives
   * one to its routes; without it every read goes to Redis.
   */
  local?: LocalCache<string | number | null>;
}
