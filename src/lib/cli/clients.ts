import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import type { AppConfig } from '../config/config.js';
import type { Logger } from '../log.js';
import type { ResourceStack } from '../resources.js';
import { createPool } from '../db/pool.js';
import { createRedis } from '../redis/client.js';
import { createKafka } from '../kafka/client.js';

/**
 * The PostgreSQL pool, Redis and Kafka clients of one command: each opened on first use (a command
 * that never touches Redis never connects to it) and its release registered on the command's stack.
 */
export class Clients {
  private pool?: pg.Pool;
  private redisClient?: Redis;
  private kafkaClient?: Kafka;

  constructor(
    private readonly config: AppConfig,
    private readonly logger: Logger,
    private readonly resources: ResourceStack,
  ) {}

  db(): pg.Pool {
    if (!this.pool) {
      const pool = createPool(this.config.database, this.logger);
      this.pool = pool;
      this.resources.defer('postgres pool', () => pool.end());
    }
    return this.pool;
  }

  redis(): Redis {
    if (!this.redisClient) {
      const client = createRedis(this.config.redis, this.logger);
      this.redisClient = client;
      this.resources.defer('redis', async () => {
        await client.quit().catch(() => client.disconnect());
      });
    }
    return this.redisClient;
  }

  /** kafkajs connects per producer/consumer/admin, and those release themselves: nothing to defer. */
  kafka(): Kafka {
    this.kafkaClient ??= createKafka(this.config.kafka, this.logger);
    return this.kafkaClient;
  }
}
