import { deleteNamespace } from '../../src/lib/redis/namespace.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../../src/lib/config/load.js';
import type { AppConfig } from '../../src/lib/config/config.js';
import { createPool } from '../../src/lib/db/pool.js';
import { migrate } from '../../src/lib/db/migrations.js';
import { createRedis } from '../../src/lib/redis/client.js';
import { createKafka } from '../../src/lib/kafka/client.js';
import { withAdmin } from '../../src/lib/kafka/admin.js';
import { ensureTopics, pipelineTopics } from '../../src/lib/kafka/topics.js';

/**
 * One stage's isolated world on the shared services: a throwaway migrated database, its own Kafka
 * topic prefix and consumer group, its own Redis key prefix. close() removes all of it.
 */
export interface BenchContext {
  id: string;
  env: Record<string, string>;
  config: AppConfig;
  pool: pg.Pool;
  redis: Redis;
  kafka: Kafka;
  /** Creates a topic under this context's prefix (removed by close()). */
  createTopic(name: string, partitions?: number): Promise<string>;
  close(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error('DATABASE_URL is not set: run the benchmark with `npm run bench`');
  return url;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, server = serverUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** `server`: another PostgreSQL server than DATABASE_URL's (the cdc stage's private logical cluster). */
export async function createBenchContext(
  extraEnv: Record<string, string> = {},
  server = serverUrl(),
): Promise<BenchContext> {
  const id = randomBytes(4).toString('hex');
  const database = `commerce_bench_${id}`;
  await admin((c) => c.query(`CREATE DATABASE "${database}"`), server);
  const env: Record<string, string> = {
    DATABASE_URL: withDatabase(server, database),
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: `bench:${id}:`,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    KAFKA_TOPIC_PREFIX: `bench${id}-`,
    KAFKA_GROUP_ID: `bench${id}`,
    KAFKA_CLIENT_ID: `bench-${id}`,
    KAFKA_PARTITIONS: '3',
    LOG_LEVEL: 'error',
    ADMIN_TOKEN: 'bench-admin-token',
    ...extraEnv,
  };
  const config = loadConfig(env);
  const pool = createPool({ url: config.database.url, poolMax: 10, applicationName: 'commerce-bench' });
  await migrate(pool);
  const redis = createRedis(config.redis);
  const kafka = createKafka(config.kafka);
  await ensureTopics(kafka, pipelineTopics(config.kafka));
  const extraTopics: string[] = [];

  return {
    id,
    env,
    config,
    pool,
    redis,
    kafka,
    async createTopic(name, partitions = config.kafka.partitions) {
      const topic = `${env.KAFKA_TOPIC_PREFIX}${name}`;
      await ensureTopics(kafka, [{ ...pipelineTopics(config.kafka)[0]!, name: topic, partitions }]);
      extraTopics.push(topic);
      return topic;
    },
    async close() {
      await pool.end();
      await deleteNamespace(redis, config.redis.keyPrefix);
      redis.disconnect();
      const topics = [...pipelineTopics(config.kafka).map((t) => t.name), ...extraTopics];
      await withAdmin(kafka, (a) => a.deleteTopics({ topics })).catch(() => undefined);
      await admin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`), server);
    },
  };
}
