import type pg from 'pg';
import { exec, one } from '../db/query.js';
import { countPublished, deletePublished } from './sql/cleanup.js';

/** Deletes up to `limit` PUBLISHED rows published before `before` (one short statement); returns how many. */
export function deletePublishedBatch(db: pg.Pool, before: Date, limit: number): Promise<number> {
  return exec(db, deletePublished(before, limit));
}

/** PUBLISHED rows published before `before`: what cleanup would delete. */
export async function countPublishedBefore(db: pg.Pool, before: Date): Promise<number> {
  return (await one<{ n: number }>(db, countPublished(before)))?.n ?? 0;
}
