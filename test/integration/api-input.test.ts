import { request as httpRequest } from 'node:http';
import { describe, expect, it } from 'vitest';
import { lastOutboxId, outboxRows, seedProduct, useTestApi } from '../support/api.js';
import { toErrorReply } from '../../src/api/errors.js';

// Strict input: text PostgreSQL cannot store, loosely written ids and padded user ids are refused with
// a 4xx naming the field, and nothing is written; a value the database refuses is never a 500.
describe('api: strict input', () => {
  const s = useTestApi();

  const counts = async () =>
    (
      await s.ctx.pool.query(
        `SELECT (SELECT count(*)::int FROM brands) AS brands, (SELECT count(*)::int FROM products) AS products,
                (SELECT count(*)::int FROM orders) AS orders, (SELECT count(*)::int FROM outbox_event) AS outbox`,
      )
    ).rows[0];

  it('refuses U+0000 in every free-text field with 422 naming the field, writing nothing', async () => {
    const p = await seedProduct(s.api);
    const before = await counts();
    const nul = 'a\u0000b';
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/brands', { name: nul }, 'name'],
      ['POST', '/brands', { name: 'fine brand', description: nul }, 'description'],
      ['POST', '/products', { brandId: p.brandId, name: nul, price: 1 }, 'name'],
      ['POST', '/products', { brandId: p.brandId, name: 'x', description: nul, price: 1 }, 'description'],
      ['PATCH', `/products/${p.id}`, { name: nul }, 'name'],
      ['PATCH', `/products/${p.id}`, { description: nul }, 'description'],
      ['POST', `/products/${p.id}/stock`, { delta: 1, reason: nul }, 'reason'],
      ['POST', `/products/${p.id}/stock`, { set: 3, reason: `\u0000` }, 'reason'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await s.api.call(method, path, { admin: true, body });
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(422);
      expect(res.body.error.code).toBe('UNSUPPORTED_CHARACTER');
      expect(res.body.error.message).toMatch(new RegExp(`^${field}: `));
    }
    expect(await counts()).toEqual(before);
    const { rows } = await s.ctx.pool.query('SELECT name, stock FROM products WHERE id = $1', [p.id]);
    expect(rows[0]).toEqual({ name: 'p', stock: 10 });
  });

  it('single-line text refuses every C0 control and DEL; descriptions allow tab and line breaks', async () => {
    const p = await seedProduct(s.api);
    for (const ch of ['\u0001', '\u0007', '\u001b', '\u007f', '\n', '\t']) {
      const res = await s.api.call('PATCH', `/products/${p.id}`, { admin: true, body: { name: `x${ch}y` } });
      expect(res.status, JSON.stringify(ch)).toBe(422);
      expect(res.body.error.message).toMatch(/^name: control characters/);
    }
    const bell = await s.api.call('PATCH', `/products/${p.id}`, {
      admin: true,
      body: { description: 'ring \u0007' },
    });
    expect(bell.status).toBe(422);
    const description = 'line one\r\n\tline two\nü 😀';
    const ok = await s.api.call('PATCH', `/products/${p.id}`, { admin: true, body: { description } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.description).toBe(description);
    // An unpaired surrogate cannot be stored as UTF-8 (it would come back as U+FFFD): refused too.
    const lone = await s.api.call('PATCH', `/products/${p.id}`, {
      admin: true,
      raw: '{"name":"half \\ud800 a pair"}',
    });
    expect(lone.status).toBe(422);
    expect(lone.body.error.message).toMatch(/^name: /);
  });

  it('path ids are plain decimal: 0x1, 1e0, +1, 0b1, %201 ... are 400 and count no view', async () => {
    const p = await seedProduct(s.api);
    const loose = [`0x${p.id.toString(16)}`, `${p.id}e0`, `+${p.id}`, `0b${p.id.toString(2)}`];
    loose.push(`%20${p.id}`, `${p.id}%20`, `0${p.id}`, `${p.id}.0`, `-${p.id}`, '0', '9007199254740992');
    await s.api.api.views.flush();
    const mark = await lastOutboxId(s.ctx);
    for (const id of loose) {
      for (const [method, path, options] of [
        ['GET', `/products/${id}`, {}],
        ['PATCH', `/products/${id}`, { admin: true, body: { price: 5 } }],
        ['POST', `/products/${id}/stock`, { admin: true, body: { delta: 1, reason: 'r' } }],
        ['POST', `/products/${id}/likes`, { user: 'u-ids' }],
        ['DELETE', `/products/${id}/likes`, { user: 'u-ids' }],
        ['GET', `/orders/${id}`, { user: 'u-ids' }],
        ['POST', `/orders/${id}/pay`, { user: 'u-ids' }],
        ['GET', `/orders/${id}/payments`, { user: 'u-ids' }],
        ['POST', `/orders/${id}/cancel`, { user: 'u-ids' }],
      ] as const) {
        const res = await s.api.call(method, path, options);
        expect(res.status, `${method} ${path}`).toBe(400);
        expect(res.body.error.code).toBe('VALIDATION_FAILED');
        expect(res.body.error.message).toMatch(/^id: /);
      }
    }
    await s.api.api.views.flush();
    expect(await outboxRows(s.ctx, mark)).toEqual([]);
    expect((await s.api.call('GET', `/products/${p.id}`)).status).toBe(200);
  });

  it('body ids are JSON numbers: true, [1], "0x1", "1" order nothing', async () => {
    const p = await seedProduct(s.api, { stock: 5 });
    const before = await counts();
    for (const productId of [true, [p.id], `0x${p.id.toString(16)}`, String(p.id), p.id + 0.5, 0, -p.id]) {
      const res = await s.api.call('POST', '/orders', {
        user: 'u-body-ids',
        body: { items: [{ productId, quantity: 1 }] },
      });
      expect(res.status, JSON.stringify(productId)).toBe(400);
      expect(res.body.error.message).toMatch(/^items\.0\.productId: /);
    }
    const brand = await s.api.call('POST', '/products', {
      admin: true,
      body: { brandId: String(p.brandId), name: 'x', price: 1 },
    });
    expect(brand.status).toBe(400);
    expect(brand.body.error.message).toMatch(/^brandId: /);
    expect(await counts()).toEqual(before);
    const { rows } = await s.ctx.pool.query('SELECT stock FROM products WHERE id = $1', [p.id]);
    expect(rows[0].stock).toBe(5);
  });

  it('query ids and paging are plain decimal too', async () => {
    const p = await seedProduct(s.api);
    for (const query of [
      `brandId=0x${p.brandId.toString(16)}`,
      `brandId=${p.brandId}e0`,
      'page=1e0',
      'page=+1',
      'size=0x10',
      'size=%2020',
      'page=',
    ]) {
      const res = await s.api.call('GET', `/products?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error.message).toMatch(new RegExp(`^${query.split('=')[0]}: `));
    }
    const orders = await s.api.call('GET', '/orders?page=0x1', { user: 'u-q' });
    expect(orders.status).toBe(400);
    const rankings = await s.api.call('GET', '/rankings?size=1e1');
    expect(rankings.status).toBe(400);
    const ok = await s.api.call('GET', `/products?brandId=${p.brandId}&page=1&size=5`);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ page: 1, size: 5, total: 1 });
  });

  /** X-USER-ID sent as latin1 bytes by node:http (fetch would refuse or normalise the value). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Reply = { status: number; body: any };
  const rawCall = (method: string, path: string, userId: string) =>
    new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        `${s.api.url}/api/v1${path}`,
        { method, headers: { 'x-user-id': userId } },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(body) }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    });

  it('X-USER-ID is taken as sent: a padded alice is not alice and cannot read her orders', async () => {
    const p = await seedProduct(s.api, { stock: 5 });
    const order = await s.api.call('POST', '/orders', {
      user: 'alice',
      body: { items: [{ productId: p.id, quantity: 1 }] },
    });
    expect(order.status).toBe(201);
    // Spaces and tabs around a header value are not part of it (HTTP strips them); anything else is.
    // U+00A0 (byte 0xA0, headers are latin1) is what String.prototype.trim() turned into alice.
    const padded = [' \u00a0alice\u00a0', 'alice\u00a0', '\u00a0alice', 'al ice', 'alice\tx', '\u00e9lise'];
    for (const user of padded) {
      for (const [method, path] of [
        ['GET', '/orders'],
        ['GET', `/orders/${order.body.id}`],
        ['POST', `/orders/${order.body.id}/cancel`],
      ] as const) {
        const res = await rawCall(method, path, user);
        expect(res.status, `${JSON.stringify(user)} ${method} ${path}`).toBe(401);
        expect(res.body.error.code).toBe('UNAUTHORIZED');
      }
    }
    const long = await s.api.call('GET', '/orders', { user: 'x'.repeat(101) });
    expect(long.status).toBe(401);
    const mine = await rawCall('GET', '/orders', '  alice ');
    expect(mine.body.items.map((o: { id: number }) => o.id)).toEqual([order.body.id]);
    const email = await s.api.call('GET', '/orders', { user: 'alice@example.com' });
    expect(email.status).toBe(200);
    expect(email.body.items).toEqual([]);
    const { rows } = await s.ctx.pool.query(`SELECT status FROM orders WHERE id = $1`, [order.body.id]);
    expect(rows[0].status).toBe('CREATED');
  });

  it('a value PostgreSQL refuses maps to a 4xx, never a 500', async () => {
    const refusal = (text: string, values: unknown[] = []) =>
      s.ctx.pool.query(text, values).then(
        () => expect.fail(`${text} was accepted`),
        (e: unknown) => e,
      );
    const reply = async (text: string, values: unknown[] = []) => toErrorReply(await refusal(text, values));
    const unsupported = { status: 422, body: { error: { code: 'UNSUPPORTED_CHARACTER' } } };
    expect(await reply('SELECT $1::text', ['a\u0000b'])).toMatchObject(unsupported); // 22021
    expect(await reply('SELECT $1::jsonb', ['{"a":"\\u0000"}'])).toMatchObject(unsupported); // 22P05
    const invalid = { status: 422, body: { error: { code: 'INVALID_VALUE' } } };
    expect(await reply('SELECT $1::int', ['99999999999'])).toMatchObject(invalid); // 22003
    const fk = `INSERT INTO products (brand_id, name, price) VALUES (-1, 'x', 1)`;
    expect(await reply(fk)).toMatchObject(invalid); // 23503
    const taken = `INSERT INTO brands (name) SELECT name FROM brands LIMIT 1`;
    expect(await reply(taken)).toMatchObject({ status: 409 }); // 23505
    // A layer that wraps the driver's error keeps it a 4xx.
    const wrapped = new Error('wrapped', { cause: await refusal('SELECT $1::bigint', ['0x1']) });
    expect(toErrorReply(wrapped)).toMatchObject(invalid); // 22P02
  });
});
