import type pg from 'pg';
import { exec, one } from '../db/query.js';
import { countHandled, deleteHandled } from './sql.js';

/** Deletes up to `limit` marks handled before `before` (one short statement); returns how many. */
export function deleteHandledBatch(db: pg.Pool, before: Date, limit: number): Promise<number> {
  return exec(db, deleteHandled(before, limit));
}

/** Marks handled before `before`: what retention would delete. */
export async function countHandledBefore(db: pg.Pool, before: Date): Promise<number> {
  return (await one<{ n: number }>(db, countHandled(before)))?.n ?? 0;
}
