import type pg from 'pg';
import type { Logger } from '../../lib/log.js';
import { anyWaiting, claimOutlook, healStaleBlocks, type ClaimOutlook } from '../../lib/outbox/outlook.js';

/** How often a relay whose claims come back empty re-checks (and logs) why: O(pending) counts. */
export const IDLE_CHECK_MS = 10_000;

/**
 * What a relay does when its claim came back empty: heal stale `blocked` flags (healStaleBlocks) and
 * find out why nothing could be claimed, so a relay never goes silent while rows are due.
 */
export async function checkIdle(db: pg.Pool): Promise<ClaimOutlook> {
  await healStaleBlocks(db);
  return claimOutlook(db);
}

/** Heals stale blocks, then whether any due row is left that a claim could take now or later: cheap. */
export async function anyDue(db: pg.Pool): Promise<boolean> {
  await healStaleBlocks(db);
  return anyWaiting(db);
}

/** Logs why an empty claim left rows behind; nothing when nothing is due. */
export function logIdle(logger: Logger, outlook: ClaimOutlook): void {
  const { waiting, leased, blocked, leaseLeftMs } = outlook;
  if (waiting > 0)
    logger.info(
      { due: waiting, leased, leaseEndsInMs: Math.round(leaseLeftMs) },
      leased > 0
        ? `${waiting} rows due but none claimable now: ${leased} leased by relays (ending within ${Math.ceil(leaseLeftMs / 1000)}s), the rest behind them in their aggregates`
        : `${waiting} rows due but none claimable now: locked by a concurrent claim or mark, retrying`,
    );
  if (blocked > 0)
    logger.info(
      { blocked },
      `${blocked} rows held behind a FAILED row or a retry backoff of their aggregate (outbox status lists FAILED rows; outbox retry resumes them)`,
    );
}
