import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppDeps } from '../../domain/deps.js';
import { createOrder } from '../../domain/orders/create.js';
import { cancelOrder } from '../../domain/orders/lifecycle.js';
import { listPayments, payOrder } from '../../domain/payments/request.js';
import { getOrder, listOrders } from '../../domain/orders/reads.js';
import { userIdOf } from '../auth.js';
import { id, paging } from '../schemas.js';
import { parse, parseIdParam } from '../validate.js';

const orderBody = z.object({
  items: z
    .array(z.object({ productId: id, quantity: z.number().int().positive().max(10_000) }))
    .min(1)
    .max(100)
    .refine(
      (items) => new Set(items.map((i) => i.productId)).size === items.length,
      'a product appears twice',
    ),
});
const idempotencyKey = z.string().min(1).max(200).optional();

/** Orders of the X-USER-ID user. POST honours Idempotency-Key: a retry answers 200 with the first order. */
export function orderRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.post('/orders', async (request, reply) => {
    const userId = userIdOf(request);
    const key = parse(idempotencyKey, request.headers['idempotency-key'], 'Idempotency-Key');
    const { items } = parse(orderBody, request.body, 'body');
    const { order, created } = await createOrder(deps, userId, items, key);
    return reply.code(created ? 201 : 200).send(order);
  });

  app.get('/orders', async (request) => {
    const userId = userIdOf(request);
    const { page, size } = parse(z.object(paging), request.query, 'query');
    return listOrders(deps, userId, page, size);
  });

  app.get('/orders/:id', async (request) => {
    const userId = userIdOf(request);
    return getOrder(deps, userId, parseIdParam(request.params));
  });

  // 202: the payment is accepted, not settled; the order becomes PAID when the gateway says SUCCESS.
  app.post('/orders/:id/pay', async (request, reply) => {
    const userId = userIdOf(request);
    const { payment } = await payOrder(deps, userId, parseIdParam(request.params));
    return reply.code(202).send(payment);
  });

  app.get('/orders/:id/payments', async (request) => {
    const userId = userIdOf(request);
    return { items: await listPayments(deps, userId, parseIdParam(request.params)) };
  });

  app.post('/orders/:id/cancel', async (request) => {
    const userId = userIdOf(request);
    return cancelOrder(deps, userId, parseIdParam(request.params));
  });
}
