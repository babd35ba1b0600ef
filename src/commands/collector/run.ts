import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { durationFlag, topicsFlag } from '../../lib/cli/flags.js';
import { EVENT_TOPICS, prefixedTopic } from '../../lib/config/config.js';
import { UsageError } from '../../lib/errors.js';
import { startCollector, type CollectorHandle } from '../../jobs/collector/collector.js';
import { collectorHooksFromEnv } from '../../jobs/collector/hooks.js';
import { DEFAULT_HANDLERS, parseHandlers, type HandlerName } from '../../jobs/collector/handlers.js';
import { createWebhookStep } from '../../jobs/collector/webhook-handler.js';
import { parseWebhookOptions } from '../../jobs/collector/webhook/options.js';
import { WebhookSender } from '../../jobs/collector/webhook/sender.js';
import { createWebhookMetrics } from '../../jobs/collector/webhook/metrics.js';
import type { CollectorStats } from '../../jobs/collector/metrics.js';
import { COLLECTOR_DEFAULTS } from '../../jobs/collector/options.js';

export default class CollectorRun extends BaseCommand<typeof CollectorRun> {
  static override summary = 'Consume the event topics and apply every event exactly once (until SIGTERM).';
  static override examples = [
    '<%= config.bin %> collector run',
    '<%= config.bin %> collector run --group commerce-analytics --handlers audit,metrics',
    '<%= config.bin %> collector run --group commerce-live --handlers ranking,cache --metrics-port 9464',
  ];
  static override flags = {
    group: Flags.string({ summary: 'Consumer group (env KAFKA_GROUP_ID): where offsets are committed.' }),
    handlers: Flags.custom<HandlerName[]>({
      helpValue: '<handler,...>',
      parse: async (input) => parseHandlers(input),
    })({
      summary: `Handlers this group runs: audit, metrics, ranking, cache, webhook (default ${DEFAULT_HANDLERS.join(',')}).`,
      description:
        'Each handler keeps its own idempotency marks (event id, handler): any groups may run any ' +
        'overlapping sets and every effect still happens once per event.',
    }),
    topics: topicsFlag({
      summary: 'Comma-separated event topics, without KAFKA_TOPIC_PREFIX (default: both event topics).',
    }),
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
    'webhook-events': Flags.string({
      summary:
        'webhook handler: comma-separated event types to POST, e.g. OrderPaid,OrderCancelled (default all).',
    }),
    'webhook-timeout': Flags.string({
      summary: 'webhook handler: per-request timeout, e.g. 5s (default 5s).',
    }),
    'webhook-concurrency': Flags.integer({
      summary: 'webhook handler: requests in flight at once (default 8).',
      min: 1,
      max: 256,
    }),
  };

  protected override configOverrides() {
    return {
      ...super.configOverrides(),
      KAFKA_GROUP_ID: this.flags.group,
      METRICS_PORT: this.flags['metrics-port'],
    };
  }

  /** Only the pipeline's event topics, prefixed like every topic of this deployment. */
  private eventTopics(names: string[]): string[] {
    const known: string[] = Object.values(EVENT_TOPICS);
    const unknown = names.find((n) => !known.includes(n));
    if (unknown !== undefined)
      throw new UsageError(
        `--topics: "${unknown}" is not an event topic (${known.join(', ')}; KAFKA_TOPIC_PREFIX is added)`,
      );
    return [...new Set(names)].map((n) => prefixedTopic(this.appConfig.kafka, n));
  }

  /** The webhook handler's delivery, when --handlers names it; its flags are refused otherwise. */
  private webhookStep(deps: ReturnType<CollectorRun['deps']>, registry: ReturnType<typeof createRegistry>) {
    const f = this.flags;
    if (!f.handlers?.includes('webhook')) {
      const given = (['webhook-events', 'webhook-timeout', 'webhook-concurrency'] as const).find(
        (n) => f[n] !== undefined,
      );
      if (given) throw new UsageError(`--${given} needs the webhook handler (--handlers ...,webhook)`);
      return undefined;
    }
    const options = parseWebhookOptions(this.appConfig.webhook, {
      events: f['webhook-events'],
      timeout: f['webhook-timeout'],
      concurrency: f['webhook-concurrency'],
    });
    const sender = new WebhookSender(options, deps.logger, createWebhookMetrics(registry));
    sender.start();
    this.resources.defer('webhook sender', () => sender.stop()); // after the collector (reverse order)
    return createWebhookStep(deps.pool, sender, options.eventTypes);
  }

  public async run(): Promise<CollectorStats & { groupId: string; handlers: readonly string[] }> {
    const { metricsPort } = this.appConfig;
    const topics = this.flags.topics && this.eventTopics(this.flags.topics);
    const registry = createRegistry({ service: 'collector' });
    const running: { collector?: CollectorHandle } = {};
    if (metricsPort !== undefined) {
      // /readyz: 200 only while the collector is in its group and consuming.
      const ready = () => running.collector?.ready() ?? false;
      const server = await startMetricsServer(registry, metricsPort, undefined, undefined, ready);
      this.resources.defer('metrics server', () => server.close());
    }
    const deps = this.deps();
    const options = {
      topics,
      handlers: this.flags.handlers,
      webhook: this.webhookStep(deps, registry),
      maxAttempts: this.flags['max-attempts'],
      batchSize: this.flags['batch-size'],
      sessionTimeoutMs: this.flags['session-timeout'], // the collector defaults to 30s
      registry,
    };
    const collector = await startCollector(deps, options, collectorHooksFromEnv(process.env));
    running.collector = collector;
    this.resources.defer('collector', () => collector.stop());
    const aborted = new Promise<void>((resolve) =>
      this.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    // A consumer that stayed out of its group through every replacement exits 1.
    await Promise.race([aborted, collector.failed]);
    await collector.stop();
    const { stats } = collector;
    this.log(
      `Collector stopped: ${stats.consumed} event(s) applied, ${stats.duplicates} duplicate(s) skipped, ` +
        `${stats.deadLettered} dead-lettered, ${stats.batches} batch(es).`,
    );
    return { groupId: collector.groupId, handlers: collector.handlers, ...stats };
  }
}
