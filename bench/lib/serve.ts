/**
 * A server in its own process, so the load generator never shares its event loop:
 *   serve.ts api    the commerce API (buildApp) over the database and Redis named by the environment
 *   serve.ts ping   the minimal baseline: one route on the same HTTP framework, nothing else
 * Prints {"url": ...} on stdout once listening; exits on SIGTERM.
 */
import Fastify from 'fastify';
import { loadConfig } from '../../src/lib/config/load.js';
import { createPool } from '../../src/lib/db/pool.js';
import { createRedis } from '../../src/lib/redis/client.js';
import { createLogger } from '../../src/lib/log.js';
import { buildApp, listen } from '../../src/api/http/app.js';

const kind = process.argv[2];
let url: string;
let close: () => Promise<void>;
if (kind === 'ping') {
  const app = Fastify({ logger: false });
  app.get('/bench/ping', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  close = () => app.close();
} else if (kind === 'api') {
  const config = loadConfig(process.env);
  const pool = createPool({ url: config.database.url, poolMax: config.database.poolMax });
  const redis = createRedis(config.redis);
  const api = await buildApp({ config, pool, redis, logger: createLogger('error', { pretty: false }) });
  url = await listen(api, '127.0.0.1', 0);
  close = async () => {
    await api.close();
    await pool.end();
    redis.disconnect();
  };
} else {
  throw new Error(`serve.ts api|ping, got ${kind}`);
}
process.once('SIGTERM', () => void close().then(() => process.exit(0)));
console.log(JSON.stringify({ url }));
