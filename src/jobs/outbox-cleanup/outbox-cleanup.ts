import type pg from 'pg';
import { exec, one, type Sql } from '../../lib/db/query.js';
import { runExclusiveJob } from '../../lib/db/job-runs.js';
import { batchJob } from '../../lib/jobs/registry.js';
import { countHandled, countPublished, deleteHandled, deletePublished } from '../../lib/outbox/sql.js';

export interface CleanupOptions {
  /** PUBLISHED outbox rows published longer ago than this are deleted. */
  olderThanMs: number;
  /** event_handled marks older than this are deleted. */
  handledOlderThanMs: number;
  batchSize: number;
  dryRun: boolean;
  signal?: AbortSignal;
  onProgress?: (text: string) => void;
}

export interface TableCleanup {
  table: 'outbox_event' | 'event_handled';
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

export const CLEANUP_JOB = batchJob('outbox-cleanup');

/**
 * Deletes old PUBLISHED outbox rows, then old idempotency marks, batch by batch until a batch comes
 * back short. Runs under the job lock (two cleanups never overlap) and is recorded in job_run.
 * A dry run only counts, takes no lock and records nothing. On SIGTERM it stops between batches.
 */
export async function runOutboxCleanup(pool: pg.Pool, options: CleanupOptions): Promise<CleanupResult> {
  const now = Date.now();
  const outboxCutoff = new Date(now - options.olderThanMs);
  const handledCutoff = new Date(now - options.handledOlderThanMs);
  if (options.dryRun) {
    const count = async (s: Sql) => (await one<{ n: number }>(pool, s))?.n ?? 0;
    return {
      dryRun: true,
      interrupted: false,
      jobRunId: null,
      tables: [
        {
          table: 'outbox_event',
          cutoff: outboxCutoff,
          deleted: await count(countPublished(outboxCutoff)),
          batches: 0,
        },
        {
          table: 'event_handled',
          cutoff: handledCutoff,
          deleted: await count(countHandled(handledCutoff)),
          batches: 0,
        },
      ],
    };
  }
  const params = {
    olderThanMs: options.olderThanMs,
    handledOlderThanMs: options.handledOlderThanMs,
    batchSize: options.batchSize,
  };
  const { result, run } = await runExclusiveJob(pool, CLEANUP_JOB, params, async (ctx) => {
    const tables: TableCleanup[] = [];
    const steps = [
      {
        table: 'outbox_event' as const,
        cutoff: outboxCutoff,
        batch: (n: number) => deletePublished(outboxCutoff, n),
      },
      {
        table: 'event_handled' as const,
        cutoff: handledCutoff,
        batch: (n: number) => deleteHandled(handledCutoff, n),
      },
    ];
    for (const step of steps) {
      const done: TableCleanup = { table: step.table, cutoff: step.cutoff, deleted: 0, batches: 0 };
      tables.push(done);
      for (;;) {
        if (options.signal?.aborted) return { tables, interrupted: true };
        const deleted = await exec(pool, step.batch(options.batchSize));
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
