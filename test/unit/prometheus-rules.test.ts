import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  ROOT,
  RULES_FILE,
  RULES_TEST_FILES,
  alertRules,
  dashboardExprs,
  ensurePrometheus,
  metricNames,
} from '../support/prometheus.js';

/**
 * deploy/prometheus and deploy/grafana checked with Prometheus' own tool (promtool, from Debian's
 * prometheus package, installed by `scripts/services.sh prometheus` when missing): the rules load,
 * their unit tests pass, every alert has a firing test case and a runbook, and every dashboard query
 * parses. Which metric names they use is checked against running processes in
 * test/integration/observability.test.ts.
 */
const promtool = (...args: string[]) => execFileSync('promtool', args, { encoding: 'utf8', stdio: 'pipe' });

describe('Prometheus rules and the Grafana dashboard', () => {
  let dir: string;
  beforeAll(() => {
    ensurePrometheus();
    dir = mkdtempSync(join(tmpdir(), 'commerce-rules-'));
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rules.yml loads and its promtool unit tests (rules.test.yml, rules.calendar.test.yml) pass', () => {
    expect(promtool('check', 'rules', RULES_FILE)).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool('test', 'rules', ...RULES_TEST_FILES)).toMatch(/SUCCESS/);
  });

  it('every alert has a test case where it fires and one where it does not', () => {
    type TestFile = {
      tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
    };
    const cases = RULES_TEST_FILES.flatMap((f) =>
      (parse(readFileSync(f, 'utf8')) as TestFile).tests.flatMap((t) => t.alert_rule_test ?? []),
    );
    for (const { alert } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(
        mine.some((c) => c.exp_alerts.length > 0),
        `${alert} fires in a test`,
      ).toBe(true);
      expect(
        mine.some((c) => c.exp_alerts.length === 0),
        `${alert} stays quiet in a test`,
      ).toBe(true);
    }
  });

  it('every alert has a runbook entry in docs/operations.md', () => {
    const runbooks = readFileSync(`${ROOT}docs/operations.md`, 'utf8');
    for (const { alert } of alertRules()) expect(runbooks, alert).toContain(`**${alert}**`);
  });

  it('every dashboard query is valid PromQL and selects at least one metric', () => {
    const exprs = dashboardExprs();
    expect(exprs.length).toBeGreaterThan(15);
    for (const expr of exprs) expect(metricNames(expr).length, expr).toBeGreaterThan(0);
    // promtool parses expressions of recording rules: one per dashboard query.
    const file = join(dir, 'dashboard-exprs.yml');
    const rules = exprs.map((expr, i) => ({ record: `dashboard:query_${i}`, expr }));
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    expect(promtool('check', 'rules', file)).toContain(`SUCCESS: ${exprs.length} rules found`);
  });

  it('metricNames reads selectors, not functions, labels or ranges', () => {
    expect(
      metricNames(
        'sum by (topic) (increase(a_total{kind="x"}[15m])) > 0 or max by (topic) (delta(b[5m])) and on () hour() >= 2',
      ).sort(),
    ).toEqual(['a_total', 'b']);
  });
});
