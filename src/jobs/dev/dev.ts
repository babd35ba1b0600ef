import { buildApp, listen, type ApiApp } from '../../api/app.js';
import { createRegistry } from '../../lib/metrics/registry.js';
import { startRelay, type Relay, type RelaySummary } from '../relay/relay.js';
import { parseRelayOptions } from '../relay/options.js';
import {
  startCollector,
  type CollectorDeps,
  type CollectorHandle,
  type CollectorOptions,
} from '../collector/collector.js';

/** What the API, relay and collector need together (the collector needs all of it); clients are the caller's. */
export type PipelineDeps = CollectorDeps;

export interface PipelineOptions {
  host?: string;
  port?: number;
  viewFlushIntervalMs?: number;
  collector?: CollectorOptions;
}

export interface Pipeline {
  url: string;
  api: ApiApp;
  relay: Relay;
  collector: CollectorHandle;
  /** Rejects if the collector's consumer crashed for good. */
  failed: Promise<never>;
  /** API first (finishes requests, flushes views), then the relay, then the collector. Safe twice. */
  stop(): Promise<{ relay: RelaySummary | undefined }>;
}

/**
 * The API, one relay and one collector in this process (`commerce dev`, `commerce demo`), started in
 * pipeline order and stopped in reverse-dependency order so every event written is published and
 * consumed by the members still running. Pools and clients are the caller's.
 */
export async function startPipeline(deps: PipelineDeps, options: PipelineOptions = {}): Promise<Pipeline> {
  const { config, logger } = deps;
  const started: Array<() => Promise<unknown>> = [];
  const unwind = async () => {
    for (const release of started.reverse()) await release().catch(() => undefined);
  };
  // The members do not get the command's signal: on SIGTERM the command calls stop(), which shuts
  // them down in order (they would otherwise all stop at once, the relay before the API's last events).
  const members = { ...deps, signal: undefined };
  // One registry: the API's /metrics shows the relay's and the collector's metrics too.
  const registry = createRegistry({ service: 'dev' });
  try {
    const collector = await startCollector(members, { ...options.collector, registry });
    started.push(() => collector.stop());
    const relay = await startRelay({ ...members, options: parseRelayOptions({}), registry });
    started.push(() => relay.stop());
    const api = await buildApp(members, { viewFlushIntervalMs: options.viewFlushIntervalMs, registry });
    started.push(() => api.close());
    const url = await listen(api, options.host ?? config.api.host, options.port ?? config.api.port);
    logger.info({ url, groupId: collector.groupId, relayId: relay.id }, `pipeline running on ${url}`);

    let stopping: Promise<{ relay: RelaySummary | undefined }> | undefined;
    const stop = () =>
      (stopping ??= (async () => {
        let summary: RelaySummary | undefined;
        try {
          await api.close();
        } finally {
          // Even when the API's last view flush fails, the relay and the collector must still stop.
          summary = await relay.stop().catch((err) => {
            logger.warn({ err }, 'relay stop failed');
            return undefined;
          });
          await collector.stop();
        }
        return { relay: summary };
      })());
    return { url, api, relay, collector, failed: collector.failed, stop };
  } catch (err) {
    await unwind();
    throw err;
  }
}
