import type pg from 'pg';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import { countHandledBefore, deleteHandledBatch } from '../../lib/handled/retention.js';
import { countPublishedBefore, deletePublishedBatch } from '../../lib/outbox/cleanup.js';

export interface CleanupOptions {
  /** PUBLISHED outbox rows published longer ago than this are deleted. */
  olderThanMs: number;
  /** event_inbox rows without an audit row first handled longer ago than this are deleted. */
  handledOlderThanMs: number;
  batchSize: number;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

export interface TableCleanup {
  table: 'outbox_event' | 'event_inbox';
  cutoff: Date;
  /** Rows deleted, or under --dry-run the rows that would be deleted. */
  deleted: number;
  batches: number;
}

export interface CleanupResult {
  dryRun: boolean;
  interrupted: boolean;
  tables: TableCleanup[];
  jobRunId: number | null;
}

const CLEANUP_JOB = batchJob('outbox-cleanup');

/**
 * Deletes old PUBLISHED outbox rows, then old idempotency marks, batch by batch until a batch comes
 * back short. Runs under the job lock (two cleanups never overlap) and is recorded in job_run.
 * A dry run only counts, takes no lock and records nothing. On SIGTERM it stops between batches.
 */
export async function runOutboxCleanup(pool: pg.Pool, options: CleanupOptions): Promise<CleanupResult> {
  const now = Date.now();
  // PUBLISHED outbox rows (the outbox module), then the collector's idempotency marks (lib/handled).
  const steps = [
    {
      table: 'outbox_event' as const,
      cutoff: new Date(now - options.olderThanMs),
      count: countPublishedBefore,
      deleteBatch: deletePublishedBatch,
    },
    {
      table: 'event_inbox' as const,
      cutoff: new Date(now - options.handledOlderThanMs),
      count: countHandledBefore,
      deleteBatch: deleteHandledBatch,
    },
  ];
  if (options.dryRun) {
    const tables: TableCleanup[] = [];
    for (const step of steps)
      tables.push({
        table: step.table,
        cutoff: step.cutoff,
        deleted: await step.count(pool, step.cutoff),
        batches: 0,
      });
    return { dryRun: true, interrupted: false, jobRunId: null, tables };
  }
  const params = {
    olderThanMs: options.olderThanMs,
    handledOlderThanMs: options.handledOlderThanMs,
    batchSize: options.batchSize,
  };
  const { result, run } = await runExclusiveJob(pool, CLEANUP_JOB, params, async (ctx) => {
    const tables: TableCleanup[] = [];
    for (const step of steps) {
      const done: TableCleanup = { table: step.table, cutoff: step.cutoff, deleted: 0, batches: 0 };
      tables.push(done);
      for (;;) {
        if (options.signal?.aborted) return { tables, interrupted: true };
        const deleted = await step.deleteBatch(pool, step.cutoff, options.batchSize);
        done.batches++;
        done.deleted += deleted;
        ctx.rowsWritten += deleted;
        options.onProgress?.(`${step.table}: deleted ${done.deleted} row(s) in ${done.batches} batch(es)`);
        if (deleted < options.batchSize) break;
      }
    }
    return { tables, interrupted: false };
  });
  return { dryRun: false, interrupted: result.interrupted, tables: result.tables, jobRunId: run.id };
}
