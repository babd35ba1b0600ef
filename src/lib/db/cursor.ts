import Cursor from 'pg-cursor';
import type pg from 'pg';
import type { Sql } from './query.js';

/**
 * Reads a statement's rows through a cursor, `chunkSize` at a time, handing each chunk to `onChunk`
 * before fetching the next: memory is bounded by the chunk, whatever the number of rows.
 * Runs on `client` (inside its transaction, if it has one). Returns the number of rows read.
 */
export async function forEachChunk<R>(
  client: pg.PoolClient,
  q: Sql,
  chunkSize: number,
  onChunk: (rows: R[]) => Promise<void> | void,
): Promise<number> {
  const cursor = client.query(new Cursor<R>(q.text, q.values));
  let read = 0;
  try {
    for (;;) {
      const chunk = await cursor.read(chunkSize);
      if (chunk.length === 0) return read;
      read += chunk.length;
      await onChunk(chunk);
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
