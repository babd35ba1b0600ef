import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { createExporterMetrics } from '../../jobs/metrics-exporter/exporter.js';

export const EXPORTER_DEFAULT_PORT = 9465;

export default class MetricsServe extends BaseCommand<typeof MetricsServe> {
  static override summary =
    'Serve Prometheus /metrics for what no running process reports: batch job outcomes (job_run), ' +
    'the outbox backlog, dead-letter counts (until SIGTERM).';
  static override description =
    'Reads PostgreSQL and Kafka at each scrape. A CronJob ends before anyone scrapes it and a stopped ' +
    'relay reports nothing: this exporter still does. Run one per deployment.';
  static override examples = [
    '<%= config.bin %> metrics serve',
    '<%= config.bin %> metrics serve --port 9465 --host 127.0.0.1',
  ];
  static override flags = {
    port: Flags.integer({
      summary: `Port of /metrics (env METRICS_PORT, default ${EXPORTER_DEFAULT_PORT}); 0 picks a free port.`,
      min: 0,
      max: 65535,
    }),
    host: Flags.string({ summary: 'Address to listen on.', default: '0.0.0.0' }),
  };

  protected override configOverrides() {
    return { ...super.configOverrides(), METRICS_PORT: this.flags.port };
  }

  public async run(): Promise<{ url: string }> {
    const registry = createRegistry({ service: 'metrics-exporter' });
    const exporter = createExporterMetrics(registry, {
      config: this.appConfig,
      pool: this.db(),
      kafka: this.kafka(),
      logger: this.logger,
    });
    this.resources.defer('kafka admin', () => exporter.close());
    const server = await startMetricsServer(
      registry,
      this.appConfig.metricsPort ?? EXPORTER_DEFAULT_PORT,
      this.flags.host,
    );
    this.resources.defer('metrics server', () => server.close());
    const url = `http://${this.flags.host}:${server.port}/metrics`;
    this.logger.info({ url }, `metrics exporter listening on ${url}`);
    await new Promise<void>((resolve) =>
      this.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
    return { url };
  }
}
