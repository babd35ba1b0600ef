import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/log.js';
import { Settlements } from './callbacks.js';
import { pick, type SimulatorOptions } from './options.js';
import { createDraw, type Draw } from './random.js';
import { paymentRequest, parseBody, refundRequest } from './requests.js';
import { GatewayState } from './state.js';

const MAX_BODY = 64 * 1024;
const FAILURE_KINDS = ['error', 'hang', 'reset'] as const;
type FailureKind = (typeof FAILURE_KINDS)[number];

/**
 * The payment gateway simulator: a real HTTP peer that misbehaves on purpose (docs/payments.md "Payment
 * gateway simulator"). Its state lives in memory and dies with the process.
 */
export class GatewaySimulator {
  readonly state = new GatewayState();
  private readonly draw: Draw;
  private readonly settlements: Settlements;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: Server;
  private closing?: Promise<void>;

  constructor(
    private readonly options: SimulatorOptions,
    private readonly logger: Logger,
  ) {
    this.draw = createDraw(options.seed);
    this.settlements = new Settlements(this.state, options, this.draw, logger);
    this.server = createServer((req, res) => {
      res.on('error', () => undefined);
      req.on('error', () => undefined);
      this.route(req, res).catch((err: unknown) => {
        // A client that hung up mid-body is not news; anything else is a bug of the simulator.
        if (req.socket.destroyed) return;
        this.logger.error({ err }, 'gateway simulator: unexpected error');
        this.reply(res, 500, { error: 'internal error' });
      });
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listens; resolves with the URL (port 0 = a free port). */
  listen(host: string, port: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const address = this.server.address() as AddressInfo;
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  /** Stops at once: pending answers, settlements and callbacks are dropped (state is memory only). */
  async close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.settlements.stop();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'POST' && path === '/payments') return this.pay(req, res, await readBody(req));
    if (req.method === 'POST' && path === '/refunds') return this.refund(req, res, await readBody(req));
    if (req.method === 'GET' && path === '/payments') return this.list(res, url.searchParams);
    if (req.method === 'GET' && path.startsWith('/payments/')) {
      this.state.stats.requests.lookups++;
      const tx = this.state.byKey.get(decodeURIComponent(path.slice('/payments/'.length)));
      return tx ? this.reply(res, 200, tx) : this.reply(res, 404, { error: 'transactionKey: unknown' });
    }
    if (req.method === 'GET' && path === '/stats') return this.reply(res, 200, this.state.snapshot());
    if (req.method === 'GET' && path === '/healthz') return this.reply(res, 200, { status: 'ok' });
    this.reply(res, 404, { error: `no route ${req.method} ${path}` });
  }

  private pay(req: IncomingMessage, res: ServerResponse, body: string | undefined): void {
    this.state.stats.requests.payments++;
    const parsed = parseBody(paymentRequest, body ?? '');
    if ('error' in parsed) return this.reply(res, body === undefined ? 413 : 400, { error: parsed.error });
    const p = parsed.value;
    const existing = this.state.byPayment.get(p.paymentId);
    if (existing && (existing.orderId !== p.orderId || existing.amount !== p.amount)) {
      return this.reply(res, 409, { error: 'paymentId: already used for another order or amount' });
    }
    const n = this.state.nextRequestNumber('pay', p.paymentId);
    const failure = this.failure('pay', p.paymentId, n);
    const latency = pick(this.options.latency, this.draw('latency', 'pay', p.paymentId, n));
    // A 500 is refused before charging; a hang or a reset loses the answer of a charge that happened.
    if (failure === 'error')
      return this.later(latency, () => this.reply(res, 500, { error: 'injected failure' }));
    const { tx, created } = this.state.getOrCreate(p);
    if (created) {
      const delay = pick(this.options.settleDelay, this.draw('settle', p.paymentId));
      this.settlements.schedule(tx, p.callbackUrl, delay);
    }
    this.answer(req, res, failure, latency, () => tx);
  }

  private refund(req: IncomingMessage, res: ServerResponse, body: string | undefined): void {
    this.state.stats.requests.refunds++;
    const parsed = parseBody(refundRequest, body ?? '');
    if ('error' in parsed) return this.reply(res, body === undefined ? 413 : 400, { error: parsed.error });
    const { paymentId, amount } = parsed.value;
    const tx = this.state.byPayment.get(paymentId);
    if (!tx) return this.reply(res, 404, { error: 'paymentId: unknown' });
    if (tx.status !== 'SUCCESS' && tx.status !== 'REFUNDED') {
      return this.reply(res, 409, {
        error: `paymentId: payment is ${tx.status}, only SUCCESS can be refunded`,
      });
    }
    if (amount !== tx.amount)
      return this.reply(res, 409, { error: `amount: only full refunds (${tx.amount})` });
    const n = this.state.nextRequestNumber('refund', paymentId);
    const failure = this.failure('refund', paymentId, n);
    const latency = pick(this.options.latency, this.draw('latency', 'refund', paymentId, n));
    if (failure === 'error')
      return this.later(latency, () => this.reply(res, 500, { error: 'injected failure' }));
    tx.status = 'REFUNDED';
    this.answer(req, res, failure, latency, () => tx);
  }

  private list(res: ServerResponse, query: URLSearchParams): void {
    this.state.stats.requests.lookups++;
    const orderId = query.get('orderId');
    const paymentId = query.get('paymentId');
    if (paymentId !== null) {
      const tx = this.state.byPayment.get(paymentId);
      return this.reply(res, 200, { items: tx ? [tx] : [] });
    }
    if (orderId !== null && /^\d{1,15}$/.test(orderId)) {
      return this.reply(res, 200, { items: this.state.findByOrder(Number(orderId)) });
    }
    this.reply(res, 400, { error: 'orderId or paymentId: give one (orderId a positive integer)' });
  }

  private failure(kind: string, paymentId: string, n: number): FailureKind | undefined {
    if (this.draw('fail', kind, paymentId, n) >= this.options.failureRate) return undefined;
    const failure = FAILURE_KINDS[Math.floor(this.draw('kind', kind, paymentId, n) * FAILURE_KINDS.length)]!;
    this.state.stats.failuresInjected++;
    this.state.stats.failuresByKind[failure]++;
    return failure;
  }

  /** The answer after the latency: the transaction as it is then, a reset, or nothing at all (hang). */
  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    failure: FailureKind | undefined,
    latency: number,
    value: () => unknown,
  ): void {
    if (failure === 'hang') return; // until the client gives up, or the simulator stops
    this.later(latency, () => {
      if (failure === 'reset') req.socket.resetAndDestroy();
      else this.reply(res, 200, value());
    });
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private reply(res: ServerResponse, status: number, body: unknown): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

/** The body as text, or undefined when it is larger than MAX_BODY. */
async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
