import pg from 'pg';
import type { Logger } from '../../lib/log.js';
import { backoffDelay } from '../../lib/backoff.js';
import { sleep } from '../../lib/sleep.js';
import { OUTBOX_CHANNEL } from '../../lib/outbox/waker.js';

/**
 * Wakes the relay when new outbox rows commit (a NOTIFY the writing process sends after its commit,
 * lib/outbox/waker.ts) or another relay published rows, with the poll interval as the fallback.
 * A dedicated connection LISTENs (a pooled one could be recycled); it reconnects with backoff if it drops. A notification that arrives while the relay is busy is
 * remembered, so the next wait returns at once.
 */
export class Wakeup {
  private client?: pg.Client;
  private pending = false;
  private wake?: () => void;
  private reconnects = 0;
  private reconnecting = false;
  private stopped = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly signal: AbortSignal,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect().catch((err) => {
      this.logger.warn({ err }, 'LISTEN failed: polling only until it reconnects');
      void this.reconnect();
    });
  }

  /** Resolves after `ms`, on a notification, or when the signal aborts, whichever comes first. */
  async wait(ms: number): Promise<void> {
    if (this.pending || this.signal.aborted) {
      this.pending = false;
      return;
    }
    const timeout = new AbortController();
    const onAbort = () => timeout.abort();
    this.signal.addEventListener('abort', onAbort, { once: true });
    this.wake = () => timeout.abort();
    await sleep(ms, timeout.signal);
    this.wake = undefined;
    this.pending = false;
    this.signal.removeEventListener('abort', onAbort);
  }

  notify(): void {
    this.pending = true;
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.databaseUrl,
      application_name: 'commerce-relay-listen',
    });
    client.on('notification', () => this.notify());
    client.on('error', (err) => {
      if (this.stopped) return;
      this.logger.warn({ err }, 'LISTEN connection lost: reconnecting');
      void this.reconnect();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.stopped) {
      await client.end();
      return;
    }
    this.client = client;
    this.reconnects = 0;
    // Rows committed while we were not listening would otherwise wait for the poll.
    this.notify();
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting || this.stopped) return;
    this.reconnecting = true;
    const old = this.client;
    this.client = undefined;
    await old?.end().catch(() => undefined);
    try {
      while (!this.signal.aborted && !this.stopped && !this.client) {
        const delay = backoffDelay(++this.reconnects, { baseMs: 200, maxMs: 10_000 });
        if (!(await sleep(delay, this.signal))) return;
        await this.connect().catch((err) => this.logger.debug({ err }, 'LISTEN reconnect failed'));
      }
    } finally {
      this.reconnecting = false;
    }
  }
}
