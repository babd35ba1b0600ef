import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { BATCH_JOBS, RECORDED_JOBS } from '../../src/lib/jobs/registry.js';
import { KNOWN_JOBS } from '../../src/jobs/metrics-exporter/exporter.js';
import { AGGREGATE_JOBS } from '../../src/jobs/aggregate/history.js';
import { ROOT, alertRules } from '../support/prometheus.js';

/**
 * The job registry (src/lib/jobs/registry.ts) against what runs and watches the jobs: the exporter's
 * job series, deploy/k8s/cronjobs.yaml and the alert rules. A job added, renamed or rescheduled in
 * one place and not the others fails here.
 */
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const cronJobs = parseAllDocuments(readFileSync(`${ROOT}deploy/k8s/cronjobs.yaml`, 'utf8'))
  .map((d) => d.toJS() as Doc)
  .filter((d) => d.kind === 'CronJob');
const scheduled = BATCH_JOBS.filter((j) => j.schedule !== null);
const LAST_SUCCESS = 'commerce_job_last_success_timestamp_seconds';

describe('the job registry', () => {
  it('names and lock keys are unique; every command exists in the CLI', () => {
    const names = BATCH_JOBS.map((j) => j.name);
    expect(new Set(names).size).toBe(names.length);
    const locks = BATCH_JOBS.flatMap((j) => (j.lockKey === null ? [] : [j.lockKey]));
    expect(new Set(locks).size).toBe(locks.length);
    for (const job of BATCH_JOBS) {
      const firstFlag = job.command.findIndex((w) => w.startsWith('-'));
      const words = firstFlag < 0 ? job.command : job.command.slice(0, firstFlag);
      const path = `${ROOT}src/commands/${words.join('/')}`;
      expect(existsSync(`${path}.ts`) || existsSync(`${path}/index.ts`), job.name).toBe(true);
    }
    expect([...AGGREGATE_JOBS]).toEqual(['aggregate-weekly', 'aggregate-monthly']);
  });

  it("the exporter's known jobs are the registry's jobs that record their runs", () => {
    expect([...KNOWN_JOBS].sort()).toEqual([...RECORDED_JOBS].sort());
    expect(KNOWN_JOBS).toContain('payments-recover');
  });

  it('cronjobs.yaml has one CronJob per scheduled job, with its schedule and command', () => {
    expect(cronJobs.map((c) => c.metadata.name).sort()).toEqual(
      scheduled.map((j) => `commerce-${j.name}`).sort(),
    );
    for (const job of scheduled) {
      const cron = cronJobs.find((c) => c.metadata.name === `commerce-${job.name}`)!;
      expect(cron.spec.schedule, job.name).toBe(job.schedule);
      expect(cron.spec.timeZone, job.name).toBe('UTC');
      expect(cron.spec.jobTemplate.spec.template.spec.containers[0].args, job.name).toEqual(job.command);
    }
  });

  it('every scheduled job that records its runs has its staleness alert, with the registry’s bound', () => {
    const rules = alertRules();
    // Every scheduled job records its runs: a CronJob nobody can see succeed would be blind.
    expect(scheduled.filter((j) => j.lockKey === null).map((j) => j.name)).toEqual([]);
    for (const job of scheduled.filter((j) => j.lockKey !== null)) {
      expect(job.stale, job.name).not.toBeNull();
      const rule = rules.find((r) => r.alert === job.stale!.alert);
      expect(rule, job.stale!.alert).toBeDefined();
      expect(rule!.expr).toContain(`${LAST_SUCCESS}{job_name="${job.name}"}`);
      if (job.stale!.calendar) continue;
      // time() - max(<last success>) > <seconds>, the seconds possibly written as a product (2 * 86400).
      const bound = /^time\(\) - max\([^)]*\) > ([\d\s*]+)$/.exec(rule!.expr.trim());
      expect(bound, rule!.expr).not.toBeNull();
      const seconds = bound![1]!.split('*').reduce((product, n) => product * Number(n), 1);
      expect(seconds, job.name).toBe(job.stale!.afterSeconds);
    }
    // A failed run alerts for every job, whatever its name.
    expect(rules.find((r) => r.alert === 'CommerceJobFailed')!.expr).toContain('by (job_name)');
  });

  it('the rules name no job the registry does not have', () => {
    const named = alertRules().flatMap((r) => [...r.expr.matchAll(/job_name="([^"]+)"/g)].map((m) => m[1]));
    for (const name of named) expect(RECORDED_JOBS, name).toContain(name);
  });
});
