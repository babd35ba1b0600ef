import type pg from 'pg';
import { InterruptedError, VerifyError } from '../../lib/errors.js';
import { sleep } from '../../lib/sleep.js';
import { pipelineProgress, type PipelineProgress } from './figures.js';

/**
 * Waits until every event written since the watermark is published and counted in the metrics
 * (the metrics handler's mark).
 * A FAILED row can never catch up, so it ends the wait at once; so does the timeout, naming what is left,
 * and SIGTERM/SIGINT (an interruption, exit 1).
 */
export async function waitForCatchUp(options: {
  pool: pg.Pool;
  watermark: string;
  timeoutMs: number;
  signal?: AbortSignal;
  onProgress?: (p: PipelineProgress) => void;
}): Promise<PipelineProgress> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const p = await pipelineProgress(options.pool, options.watermark);
    options.onProgress?.(p);
    if (p.failed > 0)
      throw new VerifyError(`${p.failed} outbox event(s) FAILED to publish: see commerce outbox status`);
    if (p.pending === 0 && p.consumed === p.written) return p;
    // Not a pipeline that fell behind: the run was stopped.
    if (options.signal?.aborted) throw new InterruptedError(options.signal, 'nothing was verified', 'demo');
    if (Date.now() > deadline) {
      throw new VerifyError(
        `the pipeline did not catch up within ${Math.round(options.timeoutMs / 1000)}s: ` +
          `${p.written} written, ${p.published} published, ${p.consumed} consumed`,
      );
    }
    await sleep(200, options.signal);
  }
}
