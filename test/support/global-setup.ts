import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrate, readMigrations } from '../../src/lib/db/migrations.js';
import { createPool } from '../../src/lib/db/pool.js';
import { SERVICE_ENV, TEMPLATE_DB_ENV, TEST_RUN_ENV, testDatabasePrefix, withDatabase } from './services.js';

/**
 * Uses the services named by DATABASE_URL, REDIS_URL and KAFKA_BROKERS when all are set (CI and
 * `npm test` set them from scripts/services.sh); otherwise starts them with testcontainers (Docker).
 * Then builds a migrated template database that each test file clones into a database of its own.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const stops: Array<() => Promise<unknown>> = [];
  if (!SERVICE_ENV.every((name) => process.env[name])) {
    stops.push(...(await startContainers()));
  }
  const template = await createTemplateDatabase(process.env.DATABASE_URL!);
  process.env[TEMPLATE_DB_ENV] = template;
  const run = randomBytes(3).toString('hex');
  process.env[TEST_RUN_ENV] = run;
  return async () => {
    await dropTestDatabases(process.env.DATABASE_URL!, testDatabasePrefix(run));
    for (const stop of stops.reverse()) await stop();
  };
}

async function startContainers(): Promise<Array<() => Promise<unknown>>> {
  const [{ PostgreSqlContainer }, { RedisContainer }, { KafkaContainer }] = await Promise.all([
    import('@testcontainers/postgresql'),
    import('@testcontainers/redis'),
    import('@testcontainers/kafka'),
  ]);
  const [postgres, redis, kafka] = await Promise.all([
    new PostgreSqlContainer('postgres:15').withDatabase('test').withUsername('postgres').start(),
    new RedisContainer('redis:7').start(),
    new KafkaContainer('confluentinc/cp-kafka:7.7.1').withKraft().start(),
  ]);
  process.env.DATABASE_URL = postgres.getConnectionUri();
  process.env.REDIS_URL = redis.getConnectionUrl();
  process.env.KAFKA_BROKERS = `${kafka.getHost()}:${kafka.getMappedPort(9093)}`;
  return [() => postgres.stop(), () => redis.stop(), () => kafka.stop()];
}

/** A database named after the migrations' content: rebuilt only when a migration changes. */
async function createTemplateDatabase(url: string): Promise<string> {
  const files = await readMigrations();
  const hash = createHash('sha256')
    .update(files.map((f) => f.checksum).join(','))
    .digest('hex')
    .slice(0, 12);
  const name = `commerce_tmpl_${hash}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_build_${process.pid}`;
      await admin.query(`CREATE DATABASE "${building}"`);
      const pool = createPool({ url: withDatabase(url, building), poolMax: 2 });
      await migrate(pool).finally(() => pool.end());
      // Rename into place so a half-built template is never used by a later run.
      await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`).catch(async (err) => {
        await admin.query(`DROP DATABASE IF EXISTS "${building}"`);
        if (!/already exists/.test(String(err))) throw err;
      });
    }
  } finally {
    await admin.end();
  }
  return name;
}

/** Drops the databases this run's files left behind (a file that crashed before ctx.close()). */
async function dropTestDatabases(url: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE starts_with(datname, $1)`,
      [prefix],
    );
    for (const { datname } of rows) await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}
