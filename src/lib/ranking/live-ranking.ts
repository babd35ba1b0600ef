import type { Redis } from 'ioredis';
import type { DomainEvent } from '../events/index.js';
import { contributions } from './contribution.js';
import { addDays, compactDate, dateInZone } from '../time/dates.js';
import { DAILY_RANKING_TTL_SECONDS, dailyRankingKey, score, type RankingWeights } from './score.js';

/**
 * The live daily ranking (a sorted set per day) and its carry-over. Every write is idempotent on its
 * own: a mark key set with NX decides, inside one Lua script, whether the increment happens, so a
 * replayed event (redelivery, crash between the database commit and Redis) is a no-op.
 * Every key is passed in KEYS so ioredis applies REDIS_KEY_PREFIX to it.
 */
export const RANKING_MARK_TTL_SECONDS = DAILY_RANKING_TTL_SECONDS;

export const rankingMarkKey = (eventId: string, productId: number) =>
  `ranking:applied:${eventId}:${productId}`;
/** Set when `ranking carry-over` seeded the day (YYYYMMDD): the day's key holds the previous day's scores too. */
export const carryOverMarkKey = (compact: string) => `ranking:carried:${compact}`;

// KEYS: mark1, rank1, mark2, rank2, ...; ARGV: markTtl, rankTtl, member1, incr1, member2, incr2, ...
// Each ranking key is given its TTL once, after its increments (a batch mostly shares one day's key).
const APPLY_SCRIPT = `
local applied = 0
local touched = {}
for i = 1, #KEYS, 2 do
  local j = 3 + (i - 1)
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    redis.call('ZINCRBY', KEYS[i + 1], ARGV[j + 1], ARGV[j])
    touched[KEYS[i + 1]] = true
    applied = applied + 1
  end
end
for key in pairs(touched) do redis.call('EXPIRE', key, ARGV[2]) end
return applied`;

/**
 * The scripts as ioredis commands: sent by EVALSHA (the body once per connection, on NOSCRIPT), with
 * REDIS_KEY_PREFIX applied to KEYS like any command. Defined once per client.
 */
interface RankingCommands {
  rankingApply(numKeys: number, ...args: (string | number)[]): Promise<number>;
  rankingCarryOver(numKeys: number, ...args: (string | number)[]): Promise<number>;
}
const defined = new WeakSet<Redis>();
function commands(redis: Redis): RankingCommands {
  if (!defined.has(redis)) {
    redis.defineCommand('rankingApply', { lua: APPLY_SCRIPT });
    redis.defineCommand('rankingCarryOver', { lua: CARRY_OVER_SCRIPT });
    defined.add(redis);
  }
  return redis as unknown as RankingCommands;
}

// KEYS: mark, tomorrow, today; ARGV: weight, ttl
const CARRY_OVER_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[2]) then return -1 end
local n = redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], KEYS[3], 'WEIGHTS', 1, ARGV[1])
if n > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return n`;

export interface RankingIncrement {
  eventId: string;
  productId: number;
  key: string;
  increment: number;
}

/** One event's increments: its score per product, on the ranking of the event's day. */
export function rankingIncrements(
  event: DomainEvent,
  weights: RankingWeights,
  timeZone: string,
): RankingIncrement[] {
  const key = dailyRankingKey(compactDate(dateInZone(event.occurredAt, timeZone)));
  return contributions(event)
    .map((c) => ({
      eventId: event.eventId,
      productId: c.productId,
      key,
      increment: score({ views: c.views, likes: c.likes, units: c.units }, weights),
    }))
    .filter((i) => i.increment !== 0);
}

/** Applies increments atomically, each at most once; returns how many were new. */
export async function applyRankingIncrements(redis: Redis, increments: RankingIncrement[]): Promise<number> {
  if (increments.length === 0) return 0;
  const keys = increments.flatMap((i) => [rankingMarkKey(i.eventId, i.productId), i.key]);
  const args = increments.flatMap((i) => [String(i.productId), String(i.increment)]);
  const applied = await commands(redis).rankingApply(
    keys.length,
    ...keys,
    RANKING_MARK_TTL_SECONDS,
    DAILY_RANKING_TTL_SECONDS,
    ...args,
  );
  return Number(applied);
}

export interface CarryOverResult {
  from: string;
  to: string;
  weight: number;
  carried: boolean;
  members: number;
}

/** Seeds `date`+1's ranking with `date`'s scores times `weight`, once (a second run is a no-op). */
export async function carryOver(redis: Redis, date: string, weight: number): Promise<CarryOverResult> {
  const to = addDays(date, 1);
  const toKey = dailyRankingKey(compactDate(to));
  const result = Number(
    await commands(redis).rankingCarryOver(
      3,
      carryOverMarkKey(compactDate(to)),
      toKey,
      dailyRankingKey(compactDate(date)),
      weight,
      DAILY_RANKING_TTL_SECONDS,
    ),
  );
  const carried = result >= 0;
  const members = carried ? result : await redis.zcard(toKey);
  return { from: date, to, weight, carried, members };
}
