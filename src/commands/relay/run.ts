import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { ExitCode } from '../../lib/errors.js';
import type { RelaySummary } from '../../jobs/relay/relay.js';
import { RELAY_DEFAULTS, RELAY_MODES } from '../../jobs/relay/options.js';
import { runRelay } from '../../jobs/relay/run.js';

export default class RelayRun extends BaseCommand<typeof RelayRun> {
  static override summary = 'Publish outbox events to Kafka, at least once, in order per aggregate.';
  static override description =
    'Claims due outbox rows with a lease, or with --mode lock row locks held while sending (several ' +
    'relays can run at once, in either mode), publishes them with an ' +
    'idempotent producer (acks=all) and marks them. Runs until SIGTERM/SIGINT, or with --once drains ' +
    'what is due and exits (1 if an event reached FAILED). With --mode cdc it reads committed outbox ' +
    'rows from the WAL instead (a logical replication slot, pgoutput; needs wal_level=logical, exit 3 ' +
    'otherwise), creating the publication and slot if missing; a second CDC relay on the same slot ' +
    'stands by until the first stops.';
  static override examples = [
    '<%= config.bin %> relay run',
    '<%= config.bin %> relay run --batch-size 1000 --lease 1m --metrics-port 9464',
    '<%= config.bin %> relay run --once --json',
    '<%= config.bin %> relay run --mode lock',
    '<%= config.bin %> relay run --mode cdc --slot commerce_outbox_relay --publication commerce_outbox',
  ];
  static override flags = {
    once: Flags.boolean({ summary: 'Publish what is due now, print a summary and exit.' }),
    mode: Flags.string({
      summary:
        'lease (rows leased while sent), lock (row locks, one write per event) or cdc (read from the WAL through a replication slot).',
      options: [...RELAY_MODES],
      default: RELAY_DEFAULTS.mode,
    }),
    'batch-size': Flags.integer({
      summary: 'Rows claimed per batch (1-10000).',
      default: RELAY_DEFAULTS.batchSize,
    }),
    lease: Flags.string({
      summary: 'How long a claimed batch is ours before another relay may take it.',
      default: RELAY_DEFAULTS.lease,
    }),
    'poll-interval': Flags.string({
      summary: 'Fallback poll when no NOTIFY arrives.',
      default: RELAY_DEFAULTS.pollInterval,
    }),
    'max-attempts': Flags.integer({
      summary: 'Attempts before a rejected event is marked FAILED.',
      default: RELAY_DEFAULTS.maxAttempts,
    }),
    'retry-backoff': Flags.string({
      summary: 'First retry delay of a rejected event (doubles, with jitter).',
      default: RELAY_DEFAULTS.retryBackoff,
    }),
    slot: Flags.string({
      summary: 'CDC: the logical replication slot (created if missing).',
      env: 'RELAY_CDC_SLOT',
      default: RELAY_DEFAULTS.slot,
    }),
    publication: Flags.string({
      summary: 'CDC: the publication of outbox_event inserts (created if missing).',
      env: 'RELAY_CDC_PUBLICATION',
      default: RELAY_DEFAULTS.publication,
    }),
    heartbeat: Flags.string({
      summary: 'CDC: how often a heartbeat message moves an idle slot forward.',
      env: 'RELAY_CDC_HEARTBEAT',
      default: RELAY_DEFAULTS.heartbeat,
    }),
    'metrics-port': Flags.integer({ summary: 'Serve Prometheus /metrics on this port (env METRICS_PORT).' }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  protected override configOverrides() {
    return { ...super.configOverrides(), METRICS_PORT: this.flags['metrics-port'] };
  }

  public async run(): Promise<RelaySummary> {
    const summary = await runRelay(
      { config: this.appConfig, pool: this.db(), logger: this.logger, signal: this.signal },
      {
        once: this.flags.once,
        mode: this.flags.mode,
        batchSize: this.flags['batch-size'],
        lease: this.flags.lease,
        pollInterval: this.flags['poll-interval'],
        maxAttempts: this.flags['max-attempts'],
        retryBackoff: this.flags['retry-backoff'],
        slot: this.flags.slot,
        publication: this.flags.publication,
        heartbeat: this.flags.heartbeat,
      },
    );
    this.log(
      `relay ${summary.relayId}: published ${summary.published}, failed ${summary.failed}, ` +
        `retrying ${summary.retried}, remaining ${summary.remaining}`,
    );
    if (this.flags.once && summary.failed > 0) process.exitCode = ExitCode.FAILURE;
    return summary;
  }
}
