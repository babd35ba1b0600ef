/**
 * A server in its own process, so the load generator never shares its event loop:
 *   serve.ts api    the commerce API (buildApp) over the database and Redis named by the environment
 *   serve.ts api-no-gateway   the same API whose gateway answers PENDING at once, in process (the
 *                   pay route without the gateway call: the payments stage's baseline)
 *   serve.ts gateway <failure-rate>   the payment gateway simulator (GATEWAY_SECRET)
 *   serve.ts ping   the minimal baseline: one route on the same HTTP framework, nothing else
 * Prints {"url": ...} on stdout once listening; exits on SIGTERM.
 */
import Fastify from 'fastify';
import { loadConfig } from '../../src/lib/config/load.js';
import { createPool } from '../../src/lib/db/pool.js';
import { createRedis } from '../../src/lib/redis/client.js';
import { createLogger } from '../../src/lib/log.js';
import { buildApp, listen } from '../../src/api/app.js';
import type { GatewayClient } from '../../src/lib/payments/gateway-client.js';
import { GatewaySimulator } from '../../src/gateway/server.js';

/** A gateway that accepts every payment at once without a network call. */
const instantGateway = {
  breakerState: 'closed',
  requestPayment: async (p: { paymentId: string; orderId: number; amount: number }) => ({
    ok: true,
    value: { transactionKey: `tx-${p.paymentId}`, ...p, status: 'PENDING' },
  }),
} as unknown as GatewayClient;

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
} else if (kind === 'gateway') {
  const simulator = new GatewaySimulator(
    {
      failureRate: Number(process.argv[3] ?? 0),
      latency: { minMs: 10, maxMs: 50 },
      settleDelay: { minMs: 1000, maxMs: 3000 },
      successRate: 0.8,
      callbackLossRate: 0,
      callbackDuplicateRate: 0.1,
      seed: 'bench',
      secret: process.env.GATEWAY_SECRET ?? 'bench',
    },
    createLogger('error', { pretty: false }),
  );
  url = await simulator.listen('127.0.0.1', 0);
  close = () => simulator.close();
} else if (kind === 'api' || kind === 'api-no-gateway') {
  const config = loadConfig(process.env);
  const pool = createPool({ url: config.database.url, poolMax: config.database.poolMax });
  const redis = createRedis(config.redis);
  const gateway = kind === 'api-no-gateway' ? instantGateway : undefined;
  const api = await buildApp({
    config,
    pool,
    redis,
    gateway,
    logger: createLogger('error', { pretty: false }),
  });
  url = await listen(api, '127.0.0.1', 0);
  close = async () => {
    await api.close();
    await pool.end();
    redis.disconnect();
  };
} else {
  throw new Error(`serve.ts api|api-no-gateway|gateway|ping, got ${kind}`);
}
process.once('SIGTERM', () => void close().then(() => process.exit(0)));
console.log(JSON.stringify({ url }));
