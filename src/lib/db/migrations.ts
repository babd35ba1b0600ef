import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { CliError } from '../errors.js';
import { rows } from './query.js';
import {
  createMigrationsTable,
  lockMigrations,
  recordMigration,
  selectAppliedMigrations,
  selectMigrationsTableExists,
  unlockMigrations,
} from './sql.js';
import { connectHeld } from './pool.js';

/** migrations/ at the package root; the same relative path from src/lib/db and dist/lib/db. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../../migrations/', import.meta.url));

export interface MigrationFile {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrationState {
  version: number;
  name: string;
  status: 'applied' | 'pending' | 'changed';
  appliedAt: Date | null;
}

/** Reads `NNN_name.sql` files in version order. */
export async function readMigrations(dir = MIGRATIONS_DIR): Promise<MigrationFile[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const result: MigrationFile[] = [];
  for (const file of files) {
    const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
    if (!match) throw new CliError(`migration file name "${file}" is not NNN_name.sql`, 'MIGRATION');
    const text = await readFile(`${dir}/${file}`, 'utf8');
    result.push({
      version: Number(match[1]),
      name: match[2]!,
      checksum: createHash('sha256').update(text).digest('hex').slice(0, 16),
      sql: text,
    });
  }
  const versions = result.map((m) => m.version);
  if (new Set(versions).size !== versions.length)
    throw new CliError('two migrations share a version', 'MIGRATION');
  return result;
}

interface AppliedRow extends pg.QueryResultRow {
  version: number;
  name: string;
  checksum: string;
  applied_at: Date;
}

export async function migrationStatus(db: pg.Pool | pg.PoolClient, dir?: string): Promise<MigrationState[]> {
  const files = await readMigrations(dir);
  const [exists] = await rows<{ exists: boolean }>(db, selectMigrationsTableExists());
  const applied = exists?.exists ? await rows<AppliedRow>(db, selectAppliedMigrations()) : [];
  const byVersion = new Map(applied.map((a) => [a.version, a]));
  return files.map((f) => {
    const a = byVersion.get(f.version);
    if (!a) return { version: f.version, name: f.name, status: 'pending', appliedAt: null };
    return {
      version: f.version,
      name: f.name,
      status: a.checksum === f.checksum ? 'applied' : 'changed',
      appliedAt: a.applied_at,
    };
  });
}

/**
 * Applies pending migrations, each in its own transaction, under a session advisory lock so that
 * concurrent runs serialize (the second finds nothing left to do). Refuses to run when an applied
 * migration's file has changed since: that is a mistake to fix by hand, not to paper over.
 */
export async function migrate(pool: pg.Pool, dir?: string): Promise<MigrationState[]> {
  const files = await readMigrations(dir);
  const { client, release } = await connectHeld(pool);
  try {
    await client.query(lockMigrations());
    try {
      await client.query(createMigrationsTable());
      const applied = new Map(
        (await rows<AppliedRow>(client, selectAppliedMigrations())).map((a) => [a.version, a]),
      );
      const done: MigrationState[] = [];
      for (const file of files) {
        const prior = applied.get(file.version);
        if (prior) {
          if (prior.checksum !== file.checksum) {
            throw new CliError(
              `migration ${file.version}_${file.name} was changed after it was applied; add a new migration instead`,
              'MIGRATION',
            );
          }
          continue;
        }
        await client.query('BEGIN');
        try {
          await client.query(file.sql);
          await client.query(recordMigration(file));
          await client.query('COMMIT');
        } catch (err) {
          // A lost connection rolled it back already; the migration's own error is the one to report.
          await client.query('ROLLBACK').catch(() => undefined);
          throw new CliError(
            `migration ${file.version}_${file.name} failed: ${(err as Error).message}`,
            'MIGRATION',
            undefined,
            { cause: err },
          );
        }
        done.push({ version: file.version, name: file.name, status: 'applied', appliedAt: new Date() });
      }
      return done;
    } finally {
      // Must not hide a migration's own error; a lost connection released the lock anyway.
      await client.query(unlockMigrations()).catch(() => undefined);
    }
  } finally {
    release();
  }
}
