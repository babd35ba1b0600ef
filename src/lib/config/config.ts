import type { Env } from './env.js';
import { parseDuration } from '../duration.js';
import { ConfigError } from '../errors.js';

/** The validated, typed configuration every command and job receives. */
export interface AppConfig {
  readonly env: Env;
  readonly database: { url: string; poolMax: number };
  readonly redis: { url: string; keyPrefix: string };
  readonly kafka: {
    brokers: string[];
    clientId: string;
    groupId: string;
    partitions: number;
    replicationFactor: number;
    topics: { catalog: string; order: string };
  };
  readonly logLevel: Env['LOG_LEVEL'];
  readonly api: { host: string; port: number; adminToken: string; cacheTtlSeconds: number };
  readonly metricsPort: number | undefined;
  readonly timezone: string;
  readonly ranking: { view: number; like: number; order: number };
  readonly eventHandledRetentionMs: number;
}

export function toConfig(env: Env): AppConfig {
  const prefix = env.KAFKA_TOPIC_PREFIX;
  let retention: number;
  try {
    retention = parseDuration(env.EVENT_HANDLED_RETENTION);
  } catch (err) {
    throw new ConfigError(`invalid EVENT_HANDLED_RETENTION: ${(err as Error).message}`);
  }
  return {
    env,
    database: { url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX },
    redis: { url: env.REDIS_URL, keyPrefix: env.REDIS_KEY_PREFIX },
    kafka: {
      brokers: env.KAFKA_BROKERS.split(','),
      clientId: env.KAFKA_CLIENT_ID,
      groupId: env.KAFKA_GROUP_ID,
      partitions: env.KAFKA_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      topics: { catalog: `${prefix}catalog-events`, order: `${prefix}order-events` },
    },
    logLevel: env.LOG_LEVEL,
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      adminToken: env.ADMIN_TOKEN,
      cacheTtlSeconds: env.CACHE_TTL_SECONDS,
    },
    metricsPort: env.METRICS_PORT,
    timezone: env.TIMEZONE,
    ranking: {
      view: env.RANKING_WEIGHT_VIEW,
      like: env.RANKING_WEIGHT_LIKE,
      order: env.RANKING_WEIGHT_ORDER,
    },
    eventHandledRetentionMs: retention,
  };
}
