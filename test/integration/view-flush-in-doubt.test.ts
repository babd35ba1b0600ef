import { createServer, connect, type Server, type Socket } from 'node:net';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestApi, seedProduct } from '../support/api.js';
import { ViewBuffer } from '../../src/domain/views/view-buffer.js';
import { createPool } from '../../src/lib/db/pool.js';
import { createLogger } from '../../src/lib/log.js';

/**
 * A TCP proxy in front of PostgreSQL that, when armed, cuts the connection carrying the next COMMIT:
 * 'after' forwards the COMMIT and drops the server's answer (the transaction committed, the client
 * cannot know), 'before' drops the COMMIT itself (the server rolls the transaction back).
 */
function commitCutter(target: { host: string; port: number }) {
  let armed: 'before' | 'after' | undefined;
  const COMMIT = Buffer.from('COMMIT\0');
  const server: Server = createServer((client: Socket) => {
    const upstream = connect(target.port, target.host);
    let cut = false;
    const hangUp = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (cut) return;
      if (armed && d.includes(COMMIT)) {
        const mode = armed;
        armed = undefined;
        cut = true;
        if (mode === 'after') upstream.write(d);
        setTimeout(hangUp, 300); // the server has committed (or not) by then
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!cut) client.write(d);
    });
    client.on('error', hangUp);
    upstream.on('error', hangUp);
    client.on('close', hangUp);
    upstream.on('close', hangUp);
  });
  return {
    server,
    arm: (mode: 'before' | 'after') => (armed = mode),
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
      ),
  };
}

describe('a view flush whose connection dies around COMMIT', () => {
  const t = useTestApi();
  let cutter: ReturnType<typeof commitCutter>;
  let pool: pg.Pool;
  let views: ViewBuffer;

  beforeAll(async () => {
    const url = new URL(t.ctx.config.database.url);
    cutter = commitCutter({ host: url.hostname, port: Number(url.port || 5432) });
    url.port = String(await cutter.listen());
    pool = createPool({ url: url.toString(), poolMax: 2 });
    const deps = { config: t.ctx.config, pool, redis: t.ctx.redis, logger: createLogger('silent') };
    views = new ViewBuffer(deps, 60_000, 2_000);
  });
  afterAll(async () => {
    await pool?.end();
    if (cutter) await new Promise((r) => cutter.server.close(r));
  });

  const counted = async (productId: number) =>
    (
      await t.ctx.pool.query<{ n: number }>(
        `SELECT coalesce(sum((payload->'payload'->>'count')::int), 0)::int AS n FROM outbox_event
          WHERE event_type = 'ProductViewed' AND aggregate_id = $1`,
        [String(productId)],
      )
    ).rows[0]!.n;

  it('counts every view once: a flush that committed is not written again, one that did not is', async () => {
    const { id } = await seedProduct(t.api);
    for (let i = 0; i < 5; i++) views.record(id);
    cutter.arm('after');
    await expect(views.flush()).rejects.toThrow(/Connection terminated|not queryable/);
    expect(await counted(id)).toBe(5); // it did commit
    await views.flush(); // settles the doubt: committed, so nothing is written again
    expect(await counted(id)).toBe(5);

    for (let i = 0; i < 3; i++) views.record(id);
    cutter.arm('before');
    await expect(views.flush()).rejects.toThrow(/Connection terminated|not queryable/);
    views.record(id); // views go on being counted meanwhile
    await views.flush(); // not committed: its 3 views are written with the new one
    expect(await counted(id)).toBe(9);
    expect(views.unflushed).toBe(0);
  });

  it('stop({ timeoutMs }): a forced stop cuts the shutdown retries short and reports the views; forced from the start it still flushes once', async () => {
    const { id } = await seedProduct(t.api);
    // PostgreSQL unreachable (nothing listens on port 1): every flush fails.
    const down = createPool({ url: 'postgres://nobody@127.0.0.1:1/none', poolMax: 1 });
    const deps = { config: t.ctx.config, pool: down, redis: t.ctx.redis, logger: createLogger('silent') };
    const stranded = new ViewBuffer(deps, 60_000, 60_000);
    for (let i = 0; i < 4; i++) stranded.record(id);
    const started = Date.now();
    await expect(stranded.stop({ timeoutMs: 300 })).rejects.toThrow(/forced stop: 4 views not flushed/);
    expect(Date.now() - started).toBeLessThan(3_000); // not the 60 s of shutdown retries
    await stranded.finished;
    await down.end();

    const before = await counted(id);
    const healthy = new ViewBuffer({ ...deps, pool: t.ctx.pool }, 60_000, 60_000);
    healthy.start();
    for (let i = 0; i < 2; i++) healthy.record(id);
    await healthy.stop({ timeoutMs: 0 });
    expect(await counted(id)).toBe(before + 2);
    expect(healthy.unflushed).toBe(0);
  });
});
