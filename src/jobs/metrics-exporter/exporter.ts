import type pg from 'pg';
import type { Admin, Kafka } from 'kafkajs';
import { Gauge, type Registry } from 'prom-client';
import type { AppConfig } from '../../lib/config/config.js';
import { one, rows } from '../../lib/db/query.js';
import { dlqTopic } from '../../lib/kafka/topics.js';
import { consumerLagWith } from '../../lib/kafka/consumer-lag.js';
import { openPartitionFetcher, type PartitionFetcher } from '../../lib/kafka/partition-fetch.js';
import type { Logger } from '../../lib/log.js';
import { RECORDED_JOBS } from '../../lib/jobs/registry.js';
import { selectJobOutcomes } from '../../lib/jobs/sql.js';
import { selectOutboxHealth } from '../../lib/outbox/sql/status.js';
import { selectDatabaseSlots } from '../../lib/outbox/sql/cdc.js';
import { selectUnsettledPayments } from '../../domain/payments/sql.js';
import { withinTimeout } from '../../lib/timeout.js';

/**
 * The label is job_name, not job: Prometheus sets `job` itself (the scrape job) and would rename ours.
 * Jobs exported even before their first run, so "never succeeded" alerts have a series (value 0):
 * every job of the registry that records its runs. */
export const KNOWN_JOBS = RECORDED_JOBS;
/** How long one scrape waits for a source (PostgreSQL, Kafka). */
export const SOURCE_TIMEOUT_MS = 5_000;
export const JOB_STATUSES = ['SUCCEEDED', 'FAILED', 'RUNNING'] as const;

export interface ExporterDeps {
  config: AppConfig;
  pool: pg.Pool;
  kafka: Kafka;
  logger: Logger;
}

interface JobOutcome {
  job_name: string;
  last_success: number | null;
  last_status: string;
  last_duration: number | null;
}

/**
 * What a CronJob or a stopped worker cannot report itself, read at scrape time: batch job outcomes from
 * job_run, the outbox backlog and the oldest unsettled payment from PostgreSQL, dead-letter counts and
 * the collector group's lag from Kafka's offsets (known even when no collector runs). One refresh
 * serves every gauge of a scrape; a source that fails drops its series (stale values would mislead)
 * and sets commerce_exporter_source_up{source} to 0.
 */
export function createExporterMetrics(
  registry: Registry,
  deps: ExporterDeps,
): { refresh(): Promise<void>; close(): Promise<void> } {
  const registers = [registry];
  // Every gauge's collect() awaits the same refresh: a scrape gets all its values from one read.
  const collect = () => refresh();
  const sourceUp = new Gauge({
    name: 'commerce_exporter_source_up',
    help: '1 when the last read of this source (postgres, kafka) succeeded.',
    labelNames: ['source'],
    registers,
    collect,
  });
  const lastSuccess = new Gauge({
    name: 'commerce_job_last_success_timestamp_seconds',
    help: 'Unix time the job last finished SUCCEEDED (0: never).',
    labelNames: ['job_name'],
    registers,
    collect,
  });
  const lastDuration = new Gauge({
    name: 'commerce_job_last_duration_seconds',
    help: 'Duration of the job’s latest finished run.',
    labelNames: ['job_name'],
    registers,
    collect,
  });
  const lastStatus = new Gauge({
    name: 'commerce_job_last_status',
    help: `1 for the status of the job’s latest run (${JOB_STATUSES.join(', ')}), 0 for the others.`,
    labelNames: ['job_name', 'status'],
    registers,
    collect,
  });
  const outboxRows = new Gauge({
    name: 'commerce_outbox_rows',
    help: 'Outbox rows not yet published, by status (PENDING, FAILED).',
    labelNames: ['status'],
    registers,
    collect,
  });
  const oldestPending = new Gauge({
    name: 'commerce_outbox_oldest_pending_age_seconds',
    help: 'Age of the oldest PENDING outbox row (0 when none): the relay lag, known with no relay running.',
    registers,
    collect,
  });
  // Payments are settled by the gateway's callback or by `payments recover` (every 5 minutes): one
  // left unsettled far longer means neither works (alert CommercePaymentUnsettled).
  const oldestUnsettledPayment = new Gauge({
    name: 'commerce_payments_oldest_unsettled_age_seconds',
    help: 'Age of the oldest payment still REQUESTED or PENDING at the gateway (0 when none).',
    registers,
    collect,
  });
  // A CDC relay exports its own slot's figures only while it runs; a slot left behind by a relay that
  // is down (or gone for good) still keeps WAL until the disk fills (alert CommerceCdcSlotRetainsWal).
  const slotRetained = new Gauge({
    name: 'commerce_cdc_slot_retained_wal_bytes',
    help: 'WAL bytes each logical replication slot of this database keeps from being recycled (active: a relay streams from it).',
    labelNames: ['slot', 'active'],
    registers,
    collect,
  });
  const deadLetters = new Gauge({
    name: 'commerce_dead_letters',
    help: 'Dead letters ever written for this topic (end offsets of its dead-letter topic).',
    labelNames: ['topic'],
    registers,
    collect,
  });
  const deadLettersRetained = new Gauge({
    name: 'commerce_dead_letters_retained',
    help: 'Dead letters still on the dead-letter topic (end minus start offsets).',
    labelNames: ['topic'],
    registers,
    collect,
  });

  const consumerLagGauge = new Gauge({
    name: 'commerce_consumer_lag_messages',
    help: "Messages the collector's group (KAFKA_GROUP_ID) has not committed yet, per topic: end minus committed offsets.",
    labelNames: ['group', 'topic'],
    registers,
    collect,
  });

  // The lag in time: the same threshold means the same at 10 and at 10,000 events/s (alert
  // CommerceCollectorLagging). Absent for a partition whose message time could not be read.
  const lagSecondsGauge = new Gauge({
    name: 'commerce_consumer_lag_seconds',
    help: "Age of the oldest message the collector's group (KAFKA_GROUP_ID) has not consumed, per partition: now minus the Kafka timestamp of the message at its committed offset (0 when caught up).",
    labelNames: ['group', 'topic', 'partition'],
    registers,
    collect,
  });

  // Moves whenever the group commits, however far behind it is: standing still while lag is above 0
  // is a group that consumes nothing (alert CommerceConsumerGroupStalled).
  const committedGauge = new Gauge({
    name: 'commerce_consumer_committed_offsets',
    help: "Sum of the collector's group (KAFKA_GROUP_ID) committed offsets per topic (0 for a partition it never committed on).",
    labelNames: ['group', 'topic'],
    registers,
    collect,
  });

  const readPostgres = async () => {
    const jobs = await rows<JobOutcome>(deps.pool, selectJobOutcomes());
    const backlog = await one<{ pending: number; failed: number; oldest_pending_age: number }>(
      deps.pool,
      selectOutboxHealth(),
    );
    const payments = await one<{ oldest_age: number }>(deps.pool, selectUnsettledPayments(0));
    const slots = await rows<{ slot: string; active: boolean; retainedBytes: number }>(
      deps.pool,
      selectDatabaseSlots(),
    );
    lastSuccess.reset();
    lastDuration.reset();
    lastStatus.reset();
    for (const job of KNOWN_JOBS) lastSuccess.set({ job_name: job }, 0);
    for (const j of jobs) {
      lastSuccess.set({ job_name: j.job_name }, j.last_success ?? 0);
      if (j.last_duration !== null) lastDuration.set({ job_name: j.job_name }, j.last_duration);
      for (const status of JOB_STATUSES)
        lastStatus.set({ job_name: j.job_name, status }, status === j.last_status ? 1 : 0);
    }
    outboxRows.set({ status: 'PENDING' }, backlog?.pending ?? 0);
    outboxRows.set({ status: 'FAILED' }, backlog?.failed ?? 0);
    oldestPending.set(backlog?.oldest_pending_age ?? 0);
    oldestUnsettledPayment.set(payments?.oldest_age ?? 0);
    slotRetained.reset();
    for (const s of slots) slotRetained.set({ slot: s.slot, active: String(s.active) }, s.retainedBytes);
  };
  // One admin connection and one partition fetcher (the lag's message times) kept between scrapes
  // (connecting costs more than the reads); dropped on an error so the next scrape connects afresh.
  let clients: Promise<{ admin: Admin; fetcher: PartitionFetcher }> | undefined;
  const dropAdmin = async () => {
    const current = clients;
    clients = undefined;
    await current
      ?.then(async (c) => {
        await c.fetcher.close().catch(() => undefined);
        await c.admin.disconnect();
      })
      .catch(() => undefined);
  };
  const withKafkaAdmin = async <T>(
    fn: (admin: Admin, fetcher: PartitionFetcher) => Promise<T>,
  ): Promise<T> => {
    clients ??= (async () => {
      const a = deps.kafka.admin();
      await a.connect();
      try {
        return { admin: a, fetcher: await openPartitionFetcher(deps.kafka) };
      } catch (err) {
        await a.disconnect().catch(() => undefined);
        throw err;
      }
    })();
    try {
      const c = await clients;
      return await fn(c.admin, c.fetcher);
    } catch (err) {
      await dropAdmin();
      throw err;
    }
  };
  const groupId = deps.config.kafka.groupId;
  const readKafka = async () => {
    const topics = [deps.config.kafka.topics.catalog, deps.config.kafka.topics.order];
    const offsets = await withKafkaAdmin(async (admin, fetcher) => {
      const existing = new Set(await admin.listTopics());
      const out: Array<{ topic: string; total: number; retained: number }> = [];
      // Dead letters: the offsets of each event topic's dead-letter topic.
      for (const topic of topics) {
        if (!existing.has(dlqTopic(topic))) {
          out.push({ topic, total: 0, retained: 0 });
          continue;
        }
        const parts = await admin.fetchTopicOffsets(dlqTopic(topic));
        out.push({
          topic,
          total: parts.reduce((sum, p) => sum + Number(p.high), 0),
          retained: parts.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0),
        });
      }
      const present = topics.filter((t) => existing.has(t));
      const lag = present.length > 0 ? await consumerLagWith(admin, groupId, present, fetcher) : undefined;
      return { deadLetters: out, lag };
    });
    for (const o of offsets.deadLetters) {
      deadLetters.set({ topic: o.topic }, o.total);
      deadLettersRetained.set({ topic: o.topic }, o.retained);
    }
    consumerLagGauge.reset();
    committedGauge.reset();
    lagSecondsGauge.reset();
    for (const p of offsets.lag?.partitions ?? []) {
      if (p.lagSeconds !== null)
        lagSecondsGauge.set({ group: groupId, topic: p.topic, partition: String(p.partition) }, p.lagSeconds);
    }
    for (const topic of new Set(offsets.lag?.partitions.map((p) => p.topic))) {
      const partitions = offsets.lag!.partitions.filter((p) => p.topic === topic);
      consumerLagGauge.set(
        { group: groupId, topic },
        partitions.reduce((sum, p) => sum + p.lag, 0),
      );
      committedGauge.set(
        { group: groupId, topic },
        partitions.reduce((sum, p) => sum + (p.committed === null ? 0 : Number(p.committed)), 0),
      );
    }
  };
  // A source that does not answer in time is down for this scrape: the other source's values must
  // still make it within Prometheus' scrape timeout (10s by default).
  const guarded = async (
    source: string,
    read: () => Promise<void>,
    series: Gauge[],
    onFail?: () => unknown,
  ) => {
    try {
      await withinTimeout(read(), SOURCE_TIMEOUT_MS, source);
      sourceUp.set({ source }, 1);
    } catch (err) {
      deps.logger.warn({ err, source }, 'metrics exporter: read failed');
      for (const g of series) g.reset();
      sourceUp.set({ source }, 0);
      void onFail?.();
    }
  };

  // Concurrent scrapes (and the gauges of one scrape) share one refresh.
  let inFlight: Promise<void> | undefined;
  function refresh(): Promise<void> {
    return (inFlight ??= Promise.all([
      guarded('postgres', readPostgres, [
        lastSuccess,
        lastDuration,
        lastStatus,
        outboxRows,
        oldestPending,
        oldestUnsettledPayment,
        slotRetained,
      ]),
      guarded(
        'kafka',
        readKafka,
        [deadLetters, deadLettersRetained, consumerLagGauge, committedGauge, lagSecondsGauge],
        dropAdmin,
      ),
    ])
      .then(() => undefined)
      .finally(() => {
        inFlight = undefined;
      }));
  }
  return {
    refresh,
    close: async () => {
      await inFlight?.catch(() => undefined);
      await dropAdmin();
    },
  };
}
