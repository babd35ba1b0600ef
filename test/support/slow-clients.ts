import type { Redis } from 'ioredis';
import type pg from 'pg';

/**
 * Clients that stop for a while at one named step, for tests that widen a window between two steps
 * of a job (no hook in the job: the test injects the client it gives the job).
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Method = (...args: unknown[]) => unknown;

/** `target` with `wrap` applied to the methods it names; every other method bound to `target`. */
function wrapped<T extends object>(target: T, wrap: Record<string, (original: Method) => Method>): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (typeof value !== 'function') return value;
      const bound = (value as Method).bind(t);
      return typeof prop === 'string' && wrap[prop] ? wrap[prop](bound) : bound;
    },
  });
}

/**
 * The same Redis client, but its ranking step (the collector's first Redis call after its database
 * commit) starts only after `delayMs()`: widens the window between a batch's commit and its ranking.
 */
export function slowRanking(redis: Redis, delayMs: () => number): Redis {
  return wrapped(redis, {
    rankingApply:
      (original) =>
      (...args: unknown[]) =>
        sleep(delayMs()).then(() => original(...args)),
  });
}

/**
 * A pool and a Redis client with which a rebuild holds its swap back for `ms`, its lock held: after
 * it has counted the changed rows (rebuild.count-changed-*), and before it renames the rebuilt ranking.
 */
export function slowRebuildSwap(pool: pg.Pool, redis: Redis, ms: number): { pool: pg.Pool; redis: Redis } {
  // Only the named statement is awaited: a cursor (forEachChunk) must come back from query() as is.
  const client = (c: pg.PoolClient) =>
    wrapped(c, {
      query:
        (original) =>
        (...args: unknown[]) => {
          const name = (args[0] as { name?: unknown } | undefined)?.name;
          if (typeof name !== 'string' || !name.startsWith('rebuild.count-changed-'))
            return original(...args);
          return (original(...args) as Promise<unknown>).then(async (result) => {
            await sleep(ms);
            return result;
          });
        },
    });
  return {
    pool: wrapped(pool, {
      connect:
        (original) =>
        async (...args: unknown[]) =>
          client((await original(...args)) as pg.PoolClient),
    }),
    redis: wrapped(redis, {
      rename:
        (original) =>
        (...args: unknown[]) =>
          sleep(ms).then(() => original(...args)),
    }),
  };
}
