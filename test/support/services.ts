/** The names under which global setup hands the services' addresses to test files. */
export const SERVICE_ENV = ['DATABASE_URL', 'REDIS_URL', 'KAFKA_BROKERS'] as const;
export const TEMPLATE_DB_ENV = 'COMMERCE_TEST_TEMPLATE_DB';
/** Names this run's test databases, so a run's teardown drops its own and never a parallel run's. */
export const RUN_ID_ENV = 'COMMERCE_TEST_RUN_ID';
export const testDatabasePrefix = (runId: string) => `commerce_run_${runId}_`;

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
