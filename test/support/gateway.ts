import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { startCli, stopCli, waitForOutput } from './cli.js';

export const GATEWAY_SECRET = 'test-gateway-secret';

export interface GatewayStats {
  requests: { payments: number; refunds: number; lookups: number };
  transactions: number;
  charges: Record<string, number>;
  failuresInjected: number;
  failuresByKind: { error: number; hang: number; reset: number };
  callbacks: { sent: number; lost: number; duplicated: number; failed: number };
}

export interface RunningGateway {
  url: string;
  port: number;
  child: ChildProcess;
  stats(): Promise<GatewayStats>;
  /** Every transaction the simulator knows of one order. */
  byOrder(orderId: number): Promise<Array<{ paymentId: string; status: string; transactionKey: string }>>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export type TestGateway = RunningGateway;

/** The real simulator (`commerce gateway serve`) in a child process, on a free port unless given one. */
export async function startGateway(flags: string[] = [], port = 0): Promise<RunningGateway> {
  const child = startCli(['gateway', 'serve', '--port', String(port), ...flags], {
    GATEWAY_SECRET,
    LOG_LEVEL: 'info',
  });
  const line = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:\d+/);
  // Nobody reads its logs from here on: keep the pipes flowing so the child never blocks on a write.
  child.stdout!.resume();
  child.stderr!.resume();
  const url = line.replace('listening on ', '');
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as GatewayStats,
    byOrder: async (orderId) =>
      ((await (await fetch(`${url}/payments?orderId=${orderId}`)).json()) as { items: [] }).items,
    stop: (signal: NodeJS.Signals = 'SIGTERM') => stopCli(child, signal),
  };
}

export interface ReceivedCallback {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A local HTTP receiver for the gateway's callbacks: records every request, answers 200. */
export async function startReceiver(): Promise<{
  url: string;
  received: ReceivedCallback[];
  close(): Promise<void>;
}> {
  const received: ReceivedCallback[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/callback`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function postJson(url: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal,
  });
}
