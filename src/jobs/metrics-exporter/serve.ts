import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { untilAborted } from '../../lib/sleep.js';
import { createExporterMetrics, type ExporterDeps } from './exporter.js';

export const EXPORTER_DEFAULT_PORT = 9465;

/**
 * `metrics serve`: the exporter's /metrics on METRICS_PORT (default 9465) until `signal` aborts;
 * then the server and the exporter's Kafka admin are closed.
 */
export async function serveExporterMetrics(
  deps: ExporterDeps & { signal: AbortSignal },
  host: string,
): Promise<{ url: string }> {
  const registry = createRegistry({ service: 'metrics-exporter' });
  const exporter = createExporterMetrics(registry, deps);
  try {
    const server = await startMetricsServer(registry, deps.config.metricsPort ?? EXPORTER_DEFAULT_PORT, host);
    try {
      const url = `http://${host}:${server.port}/metrics`;
      deps.logger.info({ url }, `metrics exporter listening on ${url}`);
      await untilAborted(deps.signal);
      return { url };
    } finally {
      await server.close();
    }
  } finally {
    await exporter.close();
  }
}
