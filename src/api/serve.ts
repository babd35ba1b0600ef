import type { ServiceDeps } from '../domain/deps.js';
import { untilAborted } from '../lib/sleep.js';
import { buildApp, listen } from './app.js';

/**
 * `api serve`: the API on host:port until `signal` aborts; then it stops accepting, finishes the
 * requests in flight and flushes buffered views before returning (the pools are the caller's, closed after).
 */
export async function serveApi(
  deps: ServiceDeps,
  options: { host: string; port: number; signal: AbortSignal },
): Promise<{ url: string }> {
  const api = await buildApp(deps);
  try {
    const url = await listen(api, options.host, options.port);
    deps.logger.info(`listening on ${url}`);
    await untilAborted(options.signal);
    await api.close();
    deps.logger.info('stopped: in-flight requests finished, views flushed');
    return { url };
  } finally {
    await api.close();
  }
}
