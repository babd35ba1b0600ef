import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { durationFlag, topicsFlag } from '../../lib/cli/flags.js';
import { DEFAULT_HANDLERS, parseHandlers, type HandlerName } from '../../jobs/collector/handlers.js';
import { COLLECTOR_DEFAULTS } from '../../jobs/collector/options.js';
import { describeCollectorRun, runCollector, type CollectorRunSummary } from '../../jobs/collector/run.js';

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

  static override exitCodes = ['UNAVAILABLE'] as const;

  protected override configOverrides() {
    return {
      ...super.configOverrides(),
      KAFKA_GROUP_ID: this.flags.group,
      METRICS_PORT: this.flags['metrics-port'],
    };
  }

  public async run(): Promise<CollectorRunSummary> {
    const f = this.flags;
    const summary = await runCollector(this.deps(), {
      topics: f.topics,
      handlers: f.handlers,
      maxAttempts: f['max-attempts'],
      batchSize: f['batch-size'],
      sessionTimeoutMs: f['session-timeout'],
      webhook: {
        events: f['webhook-events'],
        timeout: f['webhook-timeout'],
        concurrency: f['webhook-concurrency'],
      },
      metricsPort: this.appConfig.metricsPort,
    });
    this.log(describeCollectorRun(summary));
    return summary;
  }
}
