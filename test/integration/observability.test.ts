import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { freePort } from '../support/ports.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createTestContext, type TestContext } from '../support/context.js';
import { runCli, startCli, stopCli, waitForOutput } from '../support/cli.js';
import { eventually } from '../support/wait.js';
import {
  NOT_YET_EXPORTED,
  checkedElsewhere,
  alertRules,
  ensurePrometheus,
  exposedNames,
  usedMetricNames,
} from '../support/prometheus.js';
import { apiClient, type ApiClient } from '../../src/jobs/demo/http.js';
import { seedCatalog } from '../../src/jobs/demo/seed.js';

/**
 * The dashboard and the alerts against the real processes: `commerce dev` (API + relay + collector in
 * one registry) and `commerce metrics serve`, scraped over HTTP, then by a real Prometheus (Debian's
 * package) evaluating a copy of rules.yml whose waits are cut to seconds.
 */
const ADMIN = 'obs-admin';

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
}

/** The value of one sample line, e.g. `api_cache_requests_total{cache="product:detail",result="hit"`. */
function sample(text: string, prefix: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function listening(child: ChildProcess): Promise<string> {
  const out = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 45_000);
  return out.replace('listening on ', '');
}

describe('metrics, dashboard and alerts against running processes and a real Prometheus', () => {
  let ctx: TestContext;
  let dir: string;
  let dev: ChildProcess | undefined;
  let exporter: ChildProcess | undefined;
  let api: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  let devUrl: string;
  let exporterUrl: string;
  let client: ApiClient;
  let productId: number;

  beforeAll(async () => {
    ensurePrometheus();
    ctx = await createTestContext();
    dir = mkdtempSync(join(tmpdir(), 'commerce-prom-'));
    dev = startCli(['dev', '--port', '0', '--host', '127.0.0.1'], {
      ...ctx.env,
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'info',
    });
    exporter = startCli(['metrics', 'serve', '--port', '0', '--host', '127.0.0.1'], {
      ...ctx.env,
      LOG_LEVEL: 'info',
    });
    devUrl = await listening(dev);
    exporterUrl = await listening(exporter);
    client = apiClient(devUrl, ADMIN);
    productId = (await seedCatalog(client, 1)).products[0]!.id;
  }, 300_000);

  afterAll(async () => {
    for (const child of [prometheus, api, dev, exporter]) if (child) await stopCli(child, 'SIGTERM', 45_000);
    await ctx?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every metric name of the dashboard and the rules is exported by dev (api, relay, collector) or the exporter', async () => {
    const order = await client.call('POST', '/orders', {
      user: 'obs-user',
      body: { items: [{ productId, quantity: 1 }] },
    });
    expect(order.status).toBe(201);
    // The collector's cache handler evicts the detail for the order's stock change: let it pass first,
    // so the three reads below see one cached value (a miss at most, then hits).
    await eventually(async () => {
      const { rows } = await ctx.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM outbox_event o
          WHERE NOT EXISTS (SELECT 1 FROM event_inbox h WHERE h.event_id = o.event_id AND 'metrics' = ANY (h.handlers))`,
      );
      return rows[0]!.n === 0;
    }, 45_000);
    await new Promise((resolve) => setTimeout(resolve, 500)); // Redis effects follow the commit
    for (let i = 0; i < 3; i++) expect((await client.call('GET', `/products/${productId}`)).status).toBe(200);
    // A batch job that ran (a CronJob, long gone) leaves its outcome in job_run for the exporter.
    const weekly = await runCli(['aggregate', '--period', 'weekly', '--json'], ctx.env, 60_000);
    expect(weekly.code, weekly.stderr).toBe(0);
    // The collector's lag gauge appears with its first batch.
    const devText = await eventually(async () => {
      const text = await scrape(`${devUrl}/metrics`);
      return exposedNames(text).has('collector_lag_messages') ? text : '';
    }, 45_000);
    // A payment the gateway never settled, 20 minutes old: the exporter's oldest-unsettled gauge.
    const unpaid = await ctx.pool.query<{ id: number }>(
      `INSERT INTO orders (user_id, total_amount, version) VALUES ('obs-unpaid', 100, 1) RETURNING id`,
    );
    await ctx.pool.query(
      `INSERT INTO payments (order_id, amount, status, created_at)
       VALUES ($1, 100, 'REQUESTED', now() - interval '20 minutes')`,
      [unpaid.rows[0]!.id],
    );
    const exporterText = await scrape(`${exporterUrl}/metrics`);
    const exported = new Set([...exposedNames(devText), ...exposedNames(exporterText)]);

    const missing = usedMetricNames().filter((n) => !exported.has(n) && !checkedElsewhere(n));
    expect(missing).toEqual([]);
    for (const name of Object.keys(NOT_YET_EXPORTED))
      expect(exported.has(name), `${name} is exported now: remove it from NOT_YET_EXPORTED`).toBe(false);

    // The new series carry real values: three reads of one product, the first a miss at most.
    expect(
      sample(devText, 'api_cache_requests_total{cache="product:detail",result="hit"'),
    ).toBeGreaterThanOrEqual(2);
    expect(sample(exporterText, 'commerce_exporter_source_up{source="postgres"')).toBe(1);
    expect(sample(exporterText, 'commerce_exporter_source_up{source="kafka"')).toBe(1);
    expect(
      sample(exporterText, 'commerce_job_last_success_timestamp_seconds{job_name="outbox-cleanup"'),
    ).toBe(0);
    // Every job of the registry has its series before its first run: a recovery that never ran alerts.
    expect(
      sample(exporterText, 'commerce_job_last_success_timestamp_seconds{job_name="payments-recover"'),
    ).toBe(0);
    const unsettledAge = sample(exporterText, 'commerce_payments_oldest_unsettled_age_seconds');
    expect(unsettledAge).toBeGreaterThanOrEqual(1200);
    expect(unsettledAge).toBeLessThan(1320);
    const weeklyAt = sample(
      exporterText,
      'commerce_job_last_success_timestamp_seconds{job_name="aggregate-weekly"',
    );
    expect(Math.abs(weeklyAt! - Date.now() / 1000)).toBeLessThan(120);
    expect(
      sample(exporterText, 'commerce_job_last_status{job_name="aggregate-weekly",status="SUCCEEDED"'),
    ).toBe(1);
    expect(
      sample(exporterText, 'commerce_job_last_duration_seconds{job_name="aggregate-weekly"'),
    ).toBeGreaterThan(0);
    // The collector's group committed the order's events: no lag left, as Kafka's offsets say.
    const lagLine = `commerce_consumer_lag_messages{group="${ctx.config.kafka.groupId}",topic="${ctx.config.kafka.topics.order}"`;
    expect(sample(exporterText, lagLine)).toBeDefined();
    await eventually(async () => sample(await scrape(`${exporterUrl}/metrics`), lagLine) === 0, 30_000, 250);
    // ...and its committed offsets: the order's events (at least the order's own) are among them.
    const committedLine = lagLine.replace(
      'commerce_consumer_lag_messages',
      'commerce_consumer_committed_offsets',
    );
    expect(sample(await scrape(`${exporterUrl}/metrics`), committedLine)).toBeGreaterThanOrEqual(1);
    // Caught up: nothing unconsumed, so no time behind either.
    const secondsLine = lagLine.replace('commerce_consumer_lag_messages', 'commerce_consumer_lag_seconds');
    expect(sample(await scrape(`${exporterUrl}/metrics`), secondsLine)).toBe(0);
  }, 120_000);

  it('the exporter counts dead letters from the dead-letter topics, and reports a source it cannot read', async () => {
    const producer = ctx.kafka.producer();
    await producer.connect();
    try {
      const dlq = `${ctx.config.kafka.topics.catalog}.dlq`;
      await producer.send({ topic: dlq, messages: [{ value: 'a' }, { value: 'b' }] });
    } finally {
      await producer.disconnect();
    }
    const topic = ctx.config.kafka.topics.catalog;
    const text = await scrape(`${exporterUrl}/metrics`);
    expect(sample(text, `commerce_dead_letters{topic="${topic}"`)).toBe(2);
    expect(sample(text, `commerce_dead_letters_retained{topic="${topic}"`)).toBe(2);

    const bad = await runCli(['metrics', 'serve', '--port', '70000'], ctx.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port');

    // Kafka unreachable: the scrape still answers in time, with PostgreSQL's series and kafka down.
    const closed = await freePort();
    const blind = startCli(['metrics', 'serve', '--port', '0', '--host', '127.0.0.1'], {
      ...ctx.env,
      KAFKA_BROKERS: `127.0.0.1:${closed}`,
      LOG_LEVEL: 'info',
    });
    try {
      const url = await listening(blind);
      const started = Date.now();
      const blindText = await scrape(`${url}/metrics`);
      expect(Date.now() - started).toBeLessThan(9_000);
      expect(sample(blindText, 'commerce_exporter_source_up{source="kafka"')).toBe(0);
      expect(sample(blindText, 'commerce_exporter_source_up{source="postgres"')).toBe(1);
      expect(exposedNames(blindText).has('commerce_dead_letters')).toBe(false);
      expect(exposedNames(blindText).has('commerce_outbox_oldest_pending_age_seconds')).toBe(true);
      // And again: the process is still up and answers.
      expect(sample(await scrape(`${url}/metrics`), 'commerce_exporter_source_up{source="kafka"')).toBe(0);
    } finally {
      expect(await stopCli(blind, 'SIGTERM', 30_000)).toBe(0);
    }
  }, 120_000);

  it('Prometheus scrapes every series; CommerceRelayLagging fires once the relay stops and rows pile up, CommerceConsumerGroupStalled once events wait for a group that commits nothing', async () => {
    const port = await freePort();
    const prom = `http://127.0.0.1:${port}`;
    // A copy of the real rules with waits cut to seconds; the relay-lag threshold (5 min) to 3 s, the
    // stalled group's window (5 min without a commit) to 6 s (three scrapes).
    const rules = alertRules().map((r) => {
      const rule = { ...r, for: r.for === undefined ? undefined : '2s' };
      if (r.alert === 'CommerceRelayLagging') {
        expect(r.expr).toContain('> 300');
        rule.expr = r.expr.replace('> 300', '> 3');
      }
      if (r.alert === 'CommerceConsumerGroupStalled') {
        expect(r.expr).toContain('[5m]');
        rule.expr = r.expr.replace('[5m]', '[6s]');
      }
      return rule;
    });
    writeFileSync(join(dir, 'rules.yml'), stringify({ groups: [{ name: 'commerce-test', rules }] }));
    const target = (url: string) => url.replace('http://', '');
    writeFileSync(
      join(dir, 'prometheus.yml'),
      stringify({
        global: { scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '1s' },
        rule_files: [join(dir, 'rules.yml')],
        scrape_configs: [
          { job_name: 'commerce-dev', static_configs: [{ targets: [target(devUrl)] }] },
          { job_name: 'commerce-exporter', static_configs: [{ targets: [target(exporterUrl)] }] },
        ],
      }),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let promLog = '';
    prometheus.stdout!.on('data', (d: Buffer) => (promLog += d.toString()));
    prometheus.stderr!.on('data', (d: Buffer) => (promLog += d.toString()));
    await eventually(async () => (await fetch(`${prom}/-/ready`)).ok, 60_000, 250).catch((err) => {
      throw new Error(`prometheus did not become ready: ${String(err)}\n${promLog.slice(-2000)}`);
    });

    const query = async (q: string) => {
      const res = await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as {
        data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
      };
      return body.data.result;
    };
    const firing = async () => {
      const res = await fetch(`${prom}/api/v1/alerts`);
      const body = (await res.json()) as {
        data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
      };
      return body.data.alerts.filter((a) => a.state === 'firing').map((a) => a.labels.alertname);
    };

    // Both targets up, and every name of the dashboard and the rules is a series in Prometheus.
    await eventually(async () => (await query('up == 1')).length === 2, 30_000, 250);
    const names = usedMetricNames().filter((n) => !checkedElsewhere(n));
    await eventually(
      async () => {
        for (const name of names) if ((await query(`count(${name})`)).length === 0) return false;
        return true;
      },
      30_000,
      500,
    );
    // The exporter's job series: cleanup and payments recovery never ran, so their alerts fire (for: cut
    // to 2 s), and so does the one of the payment left REQUESTED for 20 minutes.
    await eventually(
      async () => {
        const alerts = await firing();
        return [
          'CommerceOutboxCleanupNotRun',
          'CommercePaymentsRecoverNotRun',
          'CommercePaymentUnsettled',
        ].every((a) => alerts.includes(a));
      },
      30_000,
      500,
    );
    expect(await firing()).not.toContain('CommerceRelayLagging');
    // The collector's group is idle with nothing to consume: not stalled.
    expect(await firing()).not.toContain('CommerceConsumerGroupStalled');

    // Stop the pipeline (the relay with it); an API alone keeps writing events to the outbox.
    expect(await stopCli(dev!, 'SIGTERM', 45_000)).toBe(0);
    dev = undefined;
    api = startCli(['api', 'serve', '--port', '0', '--host', '127.0.0.1'], { ...ctx.env, LOG_LEVEL: 'info' });
    const apiUrl = await listening(api);
    const order = await apiClient(apiUrl).call('POST', '/orders', {
      user: 'obs-user-2',
      body: { items: [{ productId, quantity: 1 }] },
    });
    expect(order.status).toBe(201);

    await eventually(async () => (await firing()).includes('CommerceRelayLagging'), 60_000, 500);
    const pending = await query('max(commerce_outbox_rows{status="PENDING"})');
    expect(Number(pending[0]!.value[1])).toBeGreaterThan(0);
    expect(
      Number((await query('max(commerce_outbox_oldest_pending_age_seconds)'))[0]!.value[1]),
    ).toBeGreaterThan(3);
    expect(await firing()).not.toContain('CommerceConsumerGroupStalled'); // nothing reached Kafka

    // An event reaches the topic while no member of the collector's group consumes: lag 1, committed
    // offsets still, and the stalled-group alert fires.
    const producer = ctx.kafka.producer();
    await producer.connect();
    try {
      await producer.send({
        topic: ctx.config.kafka.topics.catalog,
        messages: [{ key: '1', value: 'waiting' }],
      });
    } finally {
      await producer.disconnect();
    }
    await eventually(async () => (await firing()).includes('CommerceConsumerGroupStalled'), 60_000, 500);
    const stalled = await query('max by (group, topic) (commerce_consumer_lag_messages) > 0');
    expect(stalled.map((r) => r.metric)).toEqual([
      { group: ctx.config.kafka.groupId, topic: ctx.config.kafka.topics.catalog },
    ]);

    expect(await stopCli(prometheus, 'SIGTERM', 30_000)).toBe(0);
    prometheus = undefined;
  }, 240_000);
});
