/**
 * Every batch job in one place: its name in job_run, its lock, the command that runs it, its
 * schedule and how long it may go without succeeding before an alert fires. The jobs, the metrics
 * exporter and `aggregate history` read their names from here; test/unit/job-registry.test.ts checks
 * deploy/k8s/cronjobs.yaml and deploy/prometheus/rules.yml against it.
 *
 * Not batch jobs of this list: `verify` (reads only: no lock, no job_run), `dlq replay` (its progress
 * is its consumer group's offsets, which already keep two replays from doubling a letter) and
 * `db migrate` (a Job before each rollout, under its own fixed lock in lib/db/sql.ts).
 */
export interface BatchJob {
  /** job_run.job_name and the exporter's job_name label; the CronJob is `commerce-<name>`. */
  readonly name: string;
  /**
   * The key of its one-run-at-a-time lock: a session advisory lock on hashtext(lockKey) held for the
   * whole run (lib/db/job-runs.ts). null: the job takes no lock and writes no job_run.
   */
  readonly lockKey: string | null;
  /** The argv of `commerce` that runs it: the CronJob's container args; by hand, the command's words. */
  readonly command: readonly string[];
  /** The CronJob's cron expression (UTC), or null for a job run by hand. */
  readonly schedule: string | null;
  /**
   * The alert that fires when the job has not succeeded for `afterSeconds`; `calendar` alerts fire at
   * a time of the period instead (after the period's run should have succeeded), `afterSeconds` then
   * being the longest gap they allow. null: no staleness alert (by hand, or no job_run to read).
   */
  readonly stale: { readonly alert: string; readonly afterSeconds: number; readonly calendar?: true } | null;
}

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const JOBS = [
  {
    name: 'aggregate-weekly',
    lockKey: 'aggregate-weekly',
    command: ['aggregate', '--period', 'weekly'],
    schedule: '30 0 * * 1', // Mondays 00:30: the week that just ended
    // Monday 02:00 without a success since Monday 00:00.
    stale: { alert: 'CommerceWeeklyAggregateMissing', afterSeconds: 7 * DAY + 2 * HOUR, calendar: true },
  },
  {
    name: 'aggregate-monthly',
    lockKey: 'aggregate-monthly',
    command: ['aggregate', '--period', 'monthly'],
    schedule: '45 0 1 * *', // the 1st 00:45: the month that just ended
    // The 1st 02:00 without a success since the 1st 00:00.
    stale: { alert: 'CommerceMonthlyAggregateMissing', afterSeconds: 31 * DAY + 2 * HOUR, calendar: true },
  },
  {
    name: 'outbox-cleanup',
    lockKey: 'outbox-cleanup',
    command: ['outbox', 'cleanup', '--older-than', '7d', '--batch-size', '1000'],
    schedule: '15 3 * * *', // daily 03:15
    stale: { alert: 'CommerceOutboxCleanupNotRun', afterSeconds: 2 * DAY },
  },
  {
    name: 'payments-recover',
    lockKey: 'payments-recover',
    command: ['payments', 'recover', '--older-than', '1m', '--limit', '1000'],
    schedule: '*/5 * * * *', // every 5 minutes: settle payments whose callback never came
    // Three runs missed: payments whose callback never came are not being settled.
    stale: { alert: 'CommercePaymentsRecoverNotRun', afterSeconds: 15 * MINUTE },
  },
  {
    name: 'orders-expire',
    lockKey: 'orders-expire',
    command: ['orders', 'expire'],
    schedule: '* * * * *', // every minute: an unpaid order holds its stock at most one minute past its window
    // Five runs missed: abandoned orders keep their stock (a flash sale sells out to nobody).
    stale: { alert: 'CommerceOrdersExpireNotRun', afterSeconds: 5 * MINUTE },
  },
  {
    name: 'ranking-carry-over',
    lockKey: 'ranking-carry-over',
    command: ['ranking', 'carry-over'],
    schedule: '50 23 * * *', // daily 23:50: seed tomorrow's ranking before midnight
    // A night missed: tomorrow's ranking starts from zero.
    stale: { alert: 'CommerceRankingCarryOverNotRun', afterSeconds: DAY + 2 * HOUR },
  },
  {
    name: 'rebuild',
    lockKey: 'rebuild',
    command: ['rebuild'],
    schedule: null,
    stale: null,
  },
] as const satisfies readonly BatchJob[];

type Job = (typeof JOBS)[number];
export type JobName = Job['name'];

export const BATCH_JOBS: readonly BatchJob[] = JOBS;

/** The job named `name`, with its literal types (a job with a lock has a string lockKey). */
export function batchJob<N extends JobName>(name: N): Extract<Job, { name: N }> {
  return JOBS.find((j) => j.name === name) as Extract<Job, { name: N }>;
}

/** The jobs that record their runs in job_run: the ones the exporter reports (0 before the first run). */
export const RECORDED_JOBS: readonly string[] = JOBS.filter((j) => j.lockKey !== null).map((j) => j.name);
