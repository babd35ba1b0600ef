import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { durationFlag } from '../../lib/cli/flags.js';
import { asKafkaUnavailable } from '../../lib/kafka/errors.js';
import { startCollector } from '../../jobs/collector/collector.js';
import { collectorHooksFromEnv } from '../../jobs/collector/hooks.js';
import type { CollectorStats } from '../../jobs/collector/metrics.js';
import { COLLECTOR_DEFAULTS, parseTopics } from '../../jobs/collector/options.js';

export default class CollectorRun extends BaseCommand<typeof CollectorRun> {
  static override summary = 'Consume the event topics and apply every event exactly once (until SIGTERM).';
  static override examples = [
    '<%= config.bin %> collector run',
    '<%= config.bin %> collector run --group collector-b --topics order-events --metrics-port 9464',
  ];
  static override flags = {
    group: Flags.string({ summary: 'Consumer group (env KAFKA_GROUP_ID); also the idempotency scope.' }),
    topics: Flags.string({ summary: 'Comma-separated topics (default: both event topics).' }),
    'max-attempts': Flags.integer({
      summary: 'Attempts before a failing event is dead-lettered.',
      default: COLLECTOR_DEFAULTS.maxAttempts,
      min: 1,
    }),
    'batch-size': Flags.integer({
      summary: 'Events per transaction.',
      default: COLLECTOR_DEFAULTS.batchSize,
      min: 1,
      max: 10_000,
    }),
    'session-timeout': durationFlag({ summary: 'Consumer group session timeout, e.g. 45s (default 30s).' }),
    'metrics-port': Flags.integer({ summary: 'Serve /metrics on this port (env METRICS_PORT).' }),
  };

  protected override configOverrides() {
    return {
      ...super.configOverrides(),
      KAFKA_GROUP_ID: this.flags.group,
      METRICS_PORT: this.flags['metrics-port'],
    };
  }

  public async run(): Promise<CollectorStats & { groupId: string }> {
    const { kafka: k, metricsPort } = this.appConfig;
    const topics = parseTopics(this.flags.topics);
    const registry = createRegistry({ service: 'collector' });
    if (metricsPort !== undefined) {
      const server = await startMetricsServer(registry, metricsPort);
      this.resources.defer('metrics server', () => server.close());
    }
    const deps = this.deps();
    const options = {
      topics,
      maxAttempts: this.flags['max-attempts'],
      batchSize: this.flags['batch-size'],
      sessionTimeoutMs: this.flags['session-timeout'], // the collector defaults to 30s
      registry,
    };
    const collector = await startCollector(deps, options, collectorHooksFromEnv(process.env)).catch((err) => {
      throw asKafkaUnavailable(err, k.brokers);
    });
    this.resources.defer('collector', () => collector.stop());
    const aborted = new Promise<void>((resolve) =>
      this.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    await Promise.race([aborted, collector.failed]); // a consumer that crashed for good exits 1
    await collector.stop();
    const { stats } = collector;
    this.log(
      `Collector stopped: ${stats.consumed} event(s) applied, ${stats.duplicates} duplicate(s) skipped, ` +
        `${stats.deadLettered} dead-lettered, ${stats.batches} batch(es).`,
    );
    return { groupId: collector.groupId, ...stats };
  }
}
