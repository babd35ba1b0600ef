import { ConfigError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { untilAborted } from '../lib/sleep.js';
import type { SimulatorOptions } from './options.js';
import { GatewaySimulator } from './server.js';

/**
 * `gateway serve`: the simulator on host:port until `signal` aborts, then closed. Its state lived in
 * memory: the counts it ends with are returned and logged, and are gone.
 */
export async function serveGateway(
  options: SimulatorOptions & { host: string; port: number },
  deps: { logger: Logger; signal: AbortSignal },
): Promise<{ url: string; stats: unknown }> {
  const { host, port, ...simulatorOptions } = options;
  if (!simulatorOptions.secret)
    throw new ConfigError('GATEWAY_SECRET is required: the simulator signs its callbacks with it');
  const simulator = new GatewaySimulator(simulatorOptions, deps.logger);
  try {
    const url = await simulator.listen(host, port);
    deps.logger.info(`listening on ${url}`);
    await untilAborted(deps.signal);
    await simulator.close();
    const stats = simulator.state.snapshot();
    deps.logger.info({ stats }, 'stopped (its state is gone: it lived in memory)');
    return { url, stats };
  } finally {
    await simulator.close();
  }
}
