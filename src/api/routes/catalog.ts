import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServiceDeps } from '../../domain/deps.js';
import { adjustStock, createBrand, createProduct, patchProduct } from '../../domain/catalog/service.js';
import {
  getProduct,
  loadProductDetail,
  listProducts,
  localProductDetail,
} from '../../domain/catalog/reads.js';
import type { ViewBuffer } from '../../domain/views/view-buffer.js';
import { PRODUCT_SORTS, type ProductSort } from '../../domain/catalog/sql.js';
import { adminGuard } from '../auth.js';
import { id, idText, money, paging, text } from '../schemas.js';
import { parse, parseIdParam } from '../validate.js';

const JSON_TYPE = 'application/json; charset=utf-8';
const name = text({ trim: true, min: 1, max: 200 });
const description = text({ max: 5_000, multiline: true });
const brandBody = z.object({ name, description: description.default('') });
const productBody = z.object({
  brandId: id,
  name,
  description: description.default(''),
  price: money,
  stock: z.number().int().min(0).max(2_147_483_647).default(0),
});
const patchBody = z
  .object({ name, description, price: money })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'give at least one of name, description, price');
const reason = text({ trim: true, min: 1, max: 200 });
const quantity = z.number().int().min(-2_147_483_647).max(2_147_483_647);
// Exactly one of `set` (the new stock) and `delta` (add or remove), always with a reason.
const stockBody = z
  .object({ set: quantity.min(0).optional(), delta: quantity.optional(), reason })
  .strict()
  .refine((b) => (b.set === undefined) !== (b.delta === undefined), 'give exactly one of set, delta')
  .transform((b) =>
    b.set !== undefined ? { set: b.set, reason: b.reason } : { delta: b.delta!, reason: b.reason },
  );
const listQuery = z.object({
  sort: z.enum(Object.keys(PRODUCT_SORTS) as [ProductSort, ...ProductSort[]]).default('latest'),
  brandId: idText.optional(),
  ...paging,
});

/** Brands and products: admin writes, public reads (cache-aside; a detail read counts a view). */
export function catalogRoutes(app: FastifyInstance, deps: ServiceDeps, views: ViewBuffer): void {
  const admin = { onRequest: adminGuard(deps.config.api.adminToken) };

  app.post('/brands', admin, async (request, reply) => {
    const brand = await createBrand(deps, parse(brandBody, request.body, 'body'));
    return reply.code(201).send(brand);
  });

  app.post('/products', admin, async (request, reply) => {
    const productId = await createProduct(deps, parse(productBody, request.body, 'body'));
    return reply.code(201).send(await getProduct(deps, productId));
  });

  app.patch('/products/:id', admin, async (request) => {
    const productId = parseIdParam(request.params);
    await patchProduct(deps, productId, parse(patchBody, request.body, 'body'));
    return getProduct(deps, productId);
  });

  app.post('/products/:id/stock', admin, async (request) => {
    const productId = parseIdParam(request.params);
    return adjustStock(deps, productId, parse(stockBody, request.body, 'body'));
  });

  app.get('/products', async (request) => listProducts(deps, parse(listQuery, request.query, 'query')));

  // Not async: a hit of the in-process cache is answered in this call, with no promise in between.
  app.get('/products/:id', (request, reply) => {
    const productId = parseIdParam(request.params);
    const local = localProductDetail(deps, productId);
    if (local !== undefined) {
      views.record(productId);
      reply.type(JSON_TYPE).send(local);
      return;
    }
    return loadProductDetail(deps, productId).then((body) => {
      views.record(productId);
      reply.type(JSON_TYPE).send(body);
    });
  });
}
