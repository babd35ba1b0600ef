import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/lib/db/migrations.js';
import { dumpSchema, SCHEMA_FILE } from '../../scripts/dump-schema.js';
import { createTestContext, type TestContext } from '../support/context.js';

describe('docs/schema.sql', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext({ emptyDatabase: true, topics: false });
    await migrate(ctx.pool);
  });
  afterAll(() => ctx?.close());

  it('is the schema the migrations produce (stale: run `npm run schema:dump`)', async () => {
    expect(await dumpSchema(ctx.pool)).toBe(await readFile(SCHEMA_FILE, 'utf8'));
  });

  it('changes with the schema, so a migration without a new dump fails the test above', async () => {
    await ctx.pool.query('CREATE INDEX schema_dump_probe_idx ON brands (created_at)');
    expect(await dumpSchema(ctx.pool)).toContain('CREATE INDEX schema_dump_probe_idx ON brands');
    expect(await dumpSchema(ctx.pool)).not.toBe(await readFile(SCHEMA_FILE, 'utf8'));
  });
});
