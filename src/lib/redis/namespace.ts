import type { Redis } from 'ioredis';

/**
 * Deletes every key under `keyPrefix` (the client's REDIS_KEY_PREFIX): the tear-down of a throwaway
 * namespace (a test file, a benchmark run). SCAN in pages, never KEYS, so a large namespace does not
 * block Redis. SCAN's MATCH is not prefixed by ioredis, DEL is: hence the slicing.
 */
export async function deleteNamespace(redis: Redis, keyPrefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of redis.scanStream({ match: `${keyPrefix}*`, count: 1_000 }) as AsyncIterable<
    string[]
  >) {
    if (keys.length > 0) deleted += await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  }
  return deleted;
}
