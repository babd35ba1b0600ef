import type pg from 'pg';
import { rows } from '../../lib/db/query.js';
import { BATCH_JOBS } from '../../lib/jobs/registry.js';
import { age, fail, ok, warn, type CheckResult } from './check.js';
import { selectJobOutcomes } from '../../lib/jobs/sql.js';

const F = 'jobs';

/** The last run of each scheduled batch job (job_run) against its schedule (lib/jobs/registry.ts). */
export async function jobChecks(pool: pg.Pool): Promise<CheckResult[]> {
  const last = new Map(
    (
      await rows<{ job_name: string; since_success: number | null; last_status: string }>(
        pool,
        selectJobOutcomes(),
      )
    ).map((r) => [r.job_name, r]),
  );
  const out: CheckResult[] = [];
  for (const job of BATCH_JOBS) {
    if (job.schedule === null || job.stale === null) continue;
    const name = `job ${job.name}`;
    const run = `commerce ${job.command.join(' ')}`;
    const cron = `its CronJob commerce-${job.name} (schedule "${job.schedule}")`;
    const r = last.get(job.name);
    if (r?.last_status === 'FAILED') {
      out.push(fail(F, name, 'its latest run FAILED', `read its log, then ${run}; check ${cron}`));
    } else if (!r || r.since_success === null) {
      out.push(warn(F, name, `never succeeded (schedule "${job.schedule}")`, `${run}, and deploy ${cron}`));
    } else if (r.since_success > job.stale.afterSeconds) {
      out.push(
        fail(
          F,
          name,
          `last success ${age(r.since_success)} ago, more than its schedule allows (${age(job.stale.afterSeconds)})`,
          `${run}; check ${cron} runs`,
        ),
      );
    } else {
      out.push(ok(F, name, `last success ${age(r.since_success)} ago (schedule "${job.schedule}")`));
    }
  }
  return out;
}
