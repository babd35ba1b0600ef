import type pg from 'pg';

/**
 * A SQL statement as data: a name (pg prepares named statements once per connection), the text, and
 * its parameters. Every statement in the code base is built by a small function returning one of these,
 * so all SQL can be read next to the table it owns and printed for inspection.
 */
export interface Sql {
  name: string;
  text: string;
  values: unknown[];
}

export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

export function sql(name: string, text: string, values: unknown[] = []): Sql {
  return { name, text, values };
}

export async function rows<R extends pg.QueryResultRow>(db: Queryable, q: Sql): Promise<R[]> {
  const result = await db.query<R>(q);
  return result.rows;
}

export async function one<R extends pg.QueryResultRow>(db: Queryable, q: Sql): Promise<R | undefined> {
  const result = await db.query<R>(q);
  return result.rows[0];
}

export async function exec(db: Queryable, q: Sql): Promise<number> {
  const result = await db.query(q);
  return result.rowCount ?? 0;
}

/**
 * A PostgreSQL array literal (`{a,b,NULL}`, for a `$n::type[]` parameter) of values that need no
 * quoting: numbers, uuids, ISO dates and timestamps, numeric ids, plain names. node-postgres quotes
 * and escapes every element of an array parameter with two regular expressions each, which for the
 * collector's thousands of elements per statement was a visible share of its CPU. Never use it for
 * free text: a comma, quote, brace, backslash or blank in a value would change the array.
 */
export function plainArray(values: readonly (string | number | null)[]): string {
  return `{${values.map((v) => v ?? 'NULL').join(',')}}`;
}
