import { untilAborted } from '../../lib/sleep.js';
import { startPipeline, type PipelineDeps } from './dev.js';

export interface DevResult {
  url: string;
  /** Events the relay published (null when it could not say: its stop failed). */
  published: number | null;
  consumed: number;
}

/**
 * `commerce dev`: the pipeline until `signal` aborts (SIGTERM) or the collector fails for good, then
 * stopped in order (API, relay, collector). A failure of the collector is rethrown after the stop.
 */
export async function runDev(deps: PipelineDeps & { signal: AbortSignal }): Promise<DevResult> {
  const pipeline = await startPipeline(deps);
  try {
    deps.logger.info(`listening on ${pipeline.url}`);
    await Promise.race([untilAborted(deps.signal), pipeline.failed]);
    const { relay } = await pipeline.stop();
    return {
      url: pipeline.url,
      published: relay?.published ?? null,
      consumed: pipeline.collector.stats.consumed,
    };
  } finally {
    await pipeline.stop();
  }
}
