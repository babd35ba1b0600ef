import type { ChildProcess } from 'node:child_process';
import { startCli, stopCli, waitForOutput } from './cli.js';

export const GATEWAY_SECRET = 'test-gateway-secret';

/** A real `commerce gateway serve` process on a free port (or a given one, to restart it in place). */
export interface TestGateway {
  url: string;
  port: number;
  child: ChildProcess;
  stats(): Promise<GatewayStats>;
  /** Every transaction the simulator knows of one order. */
  byOrder(orderId: number): Promise<Array<{ paymentId: string; status: string; transactionKey: string }>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface GatewayStats {
  requests: { payments: number; refunds: number };
  transactions: number;
  charges: Record<string, number>;
  failuresInjected: number;
  callbacks: { sent: number; lost: number; duplicated: number };
}

export async function startGateway(flags: string[] = [], port = 0): Promise<TestGateway> {
  const child = startCli(['gateway', 'serve', '--port', String(port), ...flags], {
    GATEWAY_SECRET,
    LOG_LEVEL: 'info',
  });
  child.stdout!.resume();
  const line = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  child.stderr!.resume();
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(line)![0];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const get = async (path: string): Promise<any> => {
    const res = await fetch(url + path);
    return res.json();
  };
  return {
    url,
    port: Number(url.split(':').pop()),
    child,
    stats: () => get('/stats'),
    byOrder: async (orderId) => (await get(`/payments?orderId=${orderId}`)).items,
    stop: (signal = 'SIGTERM') => stopCli(child, signal),
  };
}
