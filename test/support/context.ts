import { deleteNamespace } from '../../src/lib/redis/namespace.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../src/lib/config/load.js';
import type { AppConfig } from '../../src/lib/config/config.js';
import { createPool } from '../../src/lib/db/pool.js';
import { createRedis } from '../../src/lib/redis/client.js';
import { createKafka } from '../../src/lib/kafka/client.js';
import { ensureTopics, pipelineTopics } from '../../src/lib/kafka/topics.js';
import { requireEnv, RUN_ID_ENV, TEMPLATE_DB_ENV, testDatabasePrefix, withDatabase } from './services.js';

/**
 * Everything one test file needs, isolated from every other file: its own database (cloned from the
 * migrated template), its own Kafka topic prefix and consumer group, its own Redis key prefix.
 * `env` is the same isolation as environment variables, for running the real CLI in a child process.
 */
export interface TestContext {
  id: string;
  env: Record<string, string>;
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  /** Builds a config with extra environment on top of this context's (e.g. another group id). */
  configWith(extra: Record<string, string>): AppConfig;
  close(): Promise<void>;
}

export interface ContextOptions {
  /** Create the pipeline topics for this context (default true). */
  topics?: boolean;
  /** Start from an empty database instead of the migrated template. */
  emptyDatabase?: boolean;
  env?: Record<string, string>;
}

export async function createTestContext(options: ContextOptions = {}): Promise<TestContext> {
  const id = randomBytes(4).toString('hex');
  const serverUrl = requireEnv('DATABASE_URL');
  const database = `${testDatabasePrefix(requireEnv(RUN_ID_ENV))}${id}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const template = options.emptyDatabase ? 'template0' : requireEnv(TEMPLATE_DB_ENV);
    await admin.query(`CREATE DATABASE "${database}" TEMPLATE "${template}"`);
  } finally {
    await admin.end();
  }
  const env: Record<string, string> = {
    DATABASE_URL: withDatabase(serverUrl, database),
    REDIS_URL: requireEnv('REDIS_URL'),
    REDIS_KEY_PREFIX: `test:${id}:`,
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    KAFKA_TOPIC_PREFIX: `t${id}-`,
    KAFKA_GROUP_ID: `g${id}`,
    KAFKA_CLIENT_ID: `test-${id}`,
    KAFKA_PARTITIONS: '3',
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  const config = loadConfig(env);
  const pool = createPool({ url: config.database.url, poolMax: 10 });
  const redis = createRedis(config.redis);
  const kafka = createKafka(config.kafka);
  if (options.topics ?? true) await ensureTopics(kafka, pipelineTopics(config.kafka));

  return {
    id,
    env,
    config,
    pool,
    redis,
    kafka,
    configWith: (extra) => loadConfig({ ...env, ...extra }),
    async close() {
      await pool.end();
      await deleteNamespace(redis, config.redis.keyPrefix);
      redis.disconnect();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).finally(() => cleanup.end());
    },
  };
}
