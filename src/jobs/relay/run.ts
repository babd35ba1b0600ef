import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { parseRelayOptions } from './options.js';
import { Relay, type RelayDeps, type RelaySummary } from './relay.js';

/**
 * `relay run`: one relay with its flags validated (a bad one is a UsageError before anything runs)
 * and, when METRICS_PORT is set, its /metrics served. With `once` it publishes what is due and
 * returns; otherwise it runs until `signal` aborts (SIGTERM), then marks its batch and returns.
 */
export async function runRelay(
  deps: Omit<RelayDeps, 'options' | 'registry'>,
  options: Parameters<typeof parseRelayOptions>[0] & { once?: boolean },
): Promise<RelaySummary> {
  const relayOptions = parseRelayOptions(options);
  const registry = createRegistry({ service: 'relay' });
  const port = deps.config.metricsPort;
  const server = port === undefined ? undefined : await startMetricsServer(registry, port);
  try {
    const relay = new Relay({ ...deps, options: relayOptions, registry });
    if (options.once) return await relay.drain();
    await relay.start();
    await relay.finished;
    return await relay.stop();
  } finally {
    await server?.close();
  }
}
