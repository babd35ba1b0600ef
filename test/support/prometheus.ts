import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const RULES_FILE = `${ROOT}deploy/prometheus/rules.yml`;
/** promtool unit tests of the rules: minute-scale alerts, and day-scale ones (evaluated every 30m). */
export const RULES_TEST_FILES = [
  `${ROOT}deploy/prometheus/rules.test.yml`,
  `${ROOT}deploy/prometheus/rules.calendar.test.yml`,
];
export const DASHBOARD_FILE = `${ROOT}deploy/grafana/commerce.json`;

/**
 * Metric names the files may use without a running process exporting them, each with why.
 * Keep it short: every entry is a name nothing checks against the code.
 */
export const NOT_YET_EXPORTED: Record<string, string> = {};

/**
 * Metric names only `relay run --mode cdc` exports: it needs wal_level=logical, which the machine's
 * shared PostgreSQL (where dev and the exporter run in observability.test.ts) does not have.
 * relay-cdc.test.ts scrapes them from a CDC relay on its private cluster instead.
 */
export const CDC_ONLY: Record<string, string> = {
  relay_cdc_slot_lag_seconds: 'the CDC relay, from its stream',
  relay_cdc_slot_retained_wal_bytes: 'the CDC relay, from pg_replication_slots',
  commerce_cdc_slot_retained_wal_bytes:
    'the exporter, one series per logical slot (the shared cluster has none)',
};

/** Names observability.test.ts need not find on dev or the exporter (see the two lists above). */
export const checkedElsewhere = (name: string) => name in NOT_YET_EXPORTED || name in CDC_ONLY;

/** Installs Debian's prometheus package (prometheus, promtool) when missing: the repo's own setup step. */
export function ensurePrometheus(): void {
  execFileSync('bash', [`${ROOT}scripts/services.sh`, 'prometheus'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
}

export function alertRules(): AlertRule[] {
  const doc = parse(readFileSync(RULES_FILE, 'utf8')) as { groups: Array<{ rules: AlertRule[] }> };
  return doc.groups.flatMap((g) => g.rules);
}

/** Every `expr` of the dashboard's panels, with Grafana's interval variables made concrete. */
export function dashboardExprs(): string[] {
  const dash = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
    panels: Array<{ targets?: Array<{ expr: string }> }>;
  };
  return dash.panels
    .flatMap((p) => p.targets ?? [])
    .map((t) => t.expr.replaceAll('$__rate_interval', '5m').replaceAll('$__interval', '1m'));
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The metric names a PromQL expression selects. Strings, label matchers, ranges and grouping label
 * lists are removed first; what is left is function names (followed by `(`), keywords, numbers and
 * metric names.
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const after = stripped.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** Every metric name the rules and the dashboard use. */
export function usedMetricNames(): string[] {
  const exprs = [...alertRules().map((r) => r.expr), ...dashboardExprs()];
  return [...new Set(exprs.flatMap(metricNames))].sort();
}

/** Sample names in a Prometheus text exposition. */
export function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  }
  return names;
}
