import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { EXPORTER_DEFAULT_PORT, serveExporterMetrics } from '../../jobs/metrics-exporter/serve.js';

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

  static override exitCodes = [] as const;

  protected override configOverrides() {
    return { ...super.configOverrides(), METRICS_PORT: this.flags.port };
  }

  public async run(): Promise<{ url: string }> {
    const deps = { config: this.appConfig, pool: this.db(), kafka: this.kafka(), logger: this.logger };
    return serveExporterMetrics({ ...deps, signal: this.signal }, this.flags.host);
  }
}
