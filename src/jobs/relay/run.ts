import { createRegistry } from '../../lib/metrics/registry.js';
import { startMetricsServer } from '../../lib/metrics/server.js';
import { parseRelayOptions } from './options.js';
import { UsageError } from '../../lib/errors.js';
import { CdcRelay } from './cdc/relay.js';
import { Relay, type RelayDeps, type RelaySummary } from './relay.js';

/**
 * `relay run`: one relay with its flags validated (a bad one is a UsageError before anything runs)
 * and, when METRICS_PORT is set, its /metrics served; `--mode cdc` runs the CdcRelay. With `once` it publishes what is due and
 * returns; otherwise it runs until `signal` aborts (SIGTERM), then marks its batch and returns.
 */
export async function runRelay(
  deps: Omit<RelayDeps, 'options' | 'registry'>,
  options: Parameters<typeof parseRelayOptions>[0] & { once?: boolean },
): Promise<RelaySummary> {
  const relayOptions = parseRelayOptions(options);
  if (relayOptions.mode === 'cdc' && options.once)
    throw new UsageError('--once drains by the polling claim: run it with --mode lease (or lock), not cdc');
  const registry = createRegistry({ service: 'relay' });
  const port = deps.config.metricsPort;
  const server = port === undefined ? undefined : await startMetricsServer(registry, port);
  try {
    if (relayOptions.mode === 'cdc') {
      // CDC (cdc/relay.ts): a ConfigError (exit 3) from start() if wal_level is not logical.
      const cdc = new CdcRelay({ ...deps, options: relayOptions, registry });
      await cdc.start();
      await cdc.finished;
      return await cdc.stop();
    }
    const relay = new Relay({ ...deps, options: relayOptions, registry });
    if (options.once) return await relay.drain();
    await relay.start();
    await relay.finished;
    return await relay.stop();
  } finally {
    await server?.close();
  }
}
