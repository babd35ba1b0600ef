/** The names under which global setup hands the services' addresses to test files. */
export const SERVICE_ENV = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'] as const;
export const TEMPLATE_DB_ENV = 'COMMERCE_TEST_TEMPLATE_DB';
/** Set by global setup: this vitest run's id. Test databases are named after it, so a run's teardown
 *  drops its own leftovers and never the databases of another run going on at the same time. */
export const TEST_RUN_ENV = 'COMMERCE_TEST_RUN';

export function testDatabasePrefix(run: string): string {
  return `commerce_tf_${run}_`;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: tests must run under vitest's global setup (npm test)`);
  return value;
}

/** The same server as `url`, another database. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
