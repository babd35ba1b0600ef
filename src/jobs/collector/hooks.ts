import type { DomainEvent } from '../../lib/events/index.js';
import type { LoggedEvent } from './sql.js';

/**
 * Seams for tests only, kept apart from CollectorOptions so production code never sets them by
 * accident: a test passes them to startCollector, and the CLI reads one from the environment.
 */
export interface CollectorTestHooks {
  /** Throws for events whose handler should "keep failing". */
  faultInjector?: (event: DomainEvent) => void;
  /** Runs after a batch's transaction committed, before Redis and the offset commit. */
  afterDbCommit?: (events: LoggedEvent[]) => Promise<void> | void;
}

/** `collector run` under a crash test: kill the process between the database and the offset commit. */
export const CRASH_AFTER_DB_COMMIT_ENV = 'COMMERCE_TEST_CRASH_AFTER_DB_COMMIT';

export function collectorHooksFromEnv(env: NodeJS.ProcessEnv): CollectorTestHooks {
  if (env[CRASH_AFTER_DB_COMMIT_ENV] !== '1') return {};
  return { afterDbCommit: () => void process.kill(process.pid, 'SIGKILL') };
}
