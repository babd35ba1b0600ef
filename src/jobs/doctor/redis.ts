import { Redis } from 'ioredis';
import type { AppConfig } from '../../lib/config/config.js';
import { fail, ok, warn, type CheckResult } from './check.js';

const F = 'redis';

/**
 * Reachable, and its eviction policy. The live ranking's daily keys carry a TTL, so a volatile-* policy
 * may evict them as surely as an allkeys-* one: only noeviction (or no maxmemory at all) keeps them.
 * A client of its own: no retries, no offline queue, so a Redis that is down fails at once.
 */
export async function redisChecks(config: AppConfig['redis'], timeoutMs: number): Promise<CheckResult[]> {
  const client = new Redis(config.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined); // the failed connect() says it
  try {
    await client.connect();
    const version = /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
    const out = [ok(F, 'Redis reachable', `Redis ${version}`)];
    let policy: string;
    let maxmemory: string;
    try {
      policy = ((await client.config('GET', 'maxmemory-policy')) as string[])[1] ?? 'unknown';
      maxmemory = ((await client.config('GET', 'maxmemory')) as string[])[1] ?? '0';
    } catch {
      out.push(
        warn(
          F,
          'eviction policy',
          'CONFIG GET is not allowed here: the eviction policy is unknown',
          "make sure maxmemory-policy is noeviction (your provider's settings)",
        ),
      );
      return out;
    }
    const fix = 'CONFIG SET maxmemory-policy noeviction (and maxmemory-policy noeviction in redis.conf)';
    if (policy === 'noeviction')
      out.push(ok(F, 'eviction policy', 'noeviction: the ranking is never evicted'));
    else if (maxmemory === '0')
      out.push(ok(F, 'eviction policy', `${policy}, but no maxmemory is set: nothing is evicted`));
    else
      out.push(
        warn(
          F,
          'eviction policy',
          `${policy} with maxmemory ${maxmemory}: may evict the live ranking's keys`,
          fix,
        ),
      );
    return out;
  } catch (err) {
    return [
      fail(
        F,
        'Redis reachable',
        `Redis is unreachable at ${redact(config.url)}: ${(err as Error).message}`,
        'start Redis or set REDIS_URL (--redis-url) to a reachable one',
      ),
    ];
  } finally {
    client.disconnect();
  }
}

/** The URL without its password. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'REDIS_URL';
  }
}
