import { Redis } from 'ioredis';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../log.js';

/**
 * A Redis client whose keys all live under the configured prefix (so tests and tenants never collide).
 * Commands fail fast while Redis is down instead of queueing: callers treat Redis as a cache that may
 * be missing, and fall back to PostgreSQL.
 */
export function createRedis(config: AppConfig['redis'], logger?: Logger): Redis {
  const client = new Redis(config.url, {
    keyPrefix: config.keyPrefix,
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    connectTimeout: 2_000,
    // A Redis that accepts connections but never answers must not hang a batch (and with it shutdown).
    commandTimeout: 5_000,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  let warned = false;
  client.on('error', (err) => {
    if (!warned) logger?.warn({ err: err.message }, 'Redis connection error');
    warned = true;
  });
  client.on('ready', () => {
    if (warned) logger?.info('Redis connection restored');
    warned = false;
  });
  return client;
}
