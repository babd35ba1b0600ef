import pg from 'pg';
import { beforePoolEnd } from '../db/pool.js';
import { notifyRelays } from './sql/wake.js';

export { OUTBOX_CHANNEL } from './sql/wake.js';

/** At most one NOTIFY per this many ms per process: a few hundred a second at most, whatever the load. */
export const WAKE_INTERVAL_MS = 10;
/** After a failed NOTIFY (PostgreSQL down) wake-ups are dropped this long: relays poll meanwhile. */
const FAILURE_PAUSE_MS = 1_000;

/**
 * Coalesces wake-up requests: the first one is sent at once, those that follow within the interval
 * (or while a send is in flight) become one more send at the end of it. `send` never runs twice at
 * once. A failed send is counted, never thrown: a wake-up is a hint, relays still poll.
 */
export class OutboxWaker {
  sent = 0;
  failed = 0;
  private lastSent = -Infinity;
  private timer?: NodeJS.Timeout;
  private sending = false;
  private again = false;
  private stopped = false;

  constructor(
    private readonly send: () => Promise<unknown>,
    private readonly intervalMs = WAKE_INTERVAL_MS,
  ) {}

  wake(): void {
    if (this.stopped) return;
    if (this.sending) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    const wait = this.lastSent + this.intervalMs - performance.now();
    if (wait <= 0) {
      void this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
    // A pending wake-up never keeps a process alive.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async flush(): Promise<void> {
    this.sending = true;
    this.again = false;
    this.lastSent = performance.now();
    try {
      await this.send();
      this.sent++;
    } catch {
      this.failed++;
      this.lastSent = performance.now() + FAILURE_PAUSE_MS - this.intervalMs;
    } finally {
      this.sending = false;
    }
    if (this.again) this.wake();
  }
}

export interface NotifyConnection {
  send(): Promise<unknown>;
  end(): Promise<void>;
}

/**
 * The waker's own connection (a one-client pool: it reconnects by itself, and an idle client lets the
 * process exit), sending a plain autocommit `SELECT pg_notify(...)`. Measured against
 * `synchronous_commit = off` for its session (`synchronousCommit: false`, bench stage `wakeup`): no
 * better for the writers, often worse (asynchronous commits make the WAL writer flush on its own
 * instead of joining the writers' group commits). See docs/outbox.md.
 */
export function notifyConnection(config: pg.PoolConfig, synchronousCommit = true): NotifyConnection {
  const pool = new pg.Pool({
    ...config,
    max: 1,
    idleTimeoutMillis: 10_000,
    connectionTimeoutMillis: 2_000,
    allowExitOnIdle: true,
    application_name: 'commerce-outbox-waker',
    options: synchronousCommit ? undefined : '-c synchronous_commit=off',
  });
  // A dead backend must not crash the process, idle or mid-query (the query then fails: counted).
  pool.on('connect', (client) => client.on('error', () => undefined));
  pool.on('error', () => undefined);
  return { send: () => pool.query(notifyRelays()), end: () => pool.end() };
}

const wakers = new WeakMap<pg.Pool, OutboxWaker>();

/**
 * Wakes the relays, coalesced per pool (one waker per process in practice), on a connection of the
 * waker's own, opened on first use and closed when `pool` ends. Call it after a commit that wrote
 * outbox rows (writeOutbox arranges that) or published some (the relay's mark).
 */
export function wakeRelays(pool: pg.Pool): void {
  let waker = wakers.get(pool);
  if (!waker) {
    if (pool.ending) return;
    const connection = notifyConnection(pool.options);
    const created = new OutboxWaker(() => connection.send());
    beforePoolEnd(pool, async () => {
      created.stop();
      await connection.end();
    });
    wakers.set(pool, created);
    waker = created;
  }
  waker.wake();
}
