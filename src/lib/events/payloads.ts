import { z } from 'zod';

/** Payload schemas per event type. Ids are positive integers; money is in minor units. */
const id = z.number().int().positive();
const userId = z.string().min(1).max(100);
const money = z.number().int().nonnegative();

export const orderItemSchema = z.object({
  productId: id,
  quantity: z.number().int().positive(),
  unitPrice: money,
});

export const payloadSchemas = {
  ProductCreated: z.object({
    productId: id,
    brandId: id,
    name: z.string(),
    price: money,
    stock: z.number().int().nonnegative(),
  }),
  ProductUpdated: z.object({
    productId: id,
    name: z.string().optional(),
    description: z.string().optional(),
    price: money.optional(),
  }),
  StockAdjusted: z.object({
    productId: id,
    delta: z.number().int(),
    newStock: z.number().int().nonnegative(),
    reason: z.string().min(1).max(200),
    orderId: id.optional(),
  }),
  LikeChanged: z.object({
    productId: id,
    userId,
    liked: z.boolean(),
    likeCount: z.number().int().nonnegative(),
  }),
  // Views are counted in the API process and flushed in batches: one event may carry many views.
  ProductViewed: z.object({
    productId: id,
    count: z.number().int().positive(),
  }),
  OrderCreated: z.object({
    orderId: id,
    userId,
    items: z.array(orderItemSchema).min(1),
    totalAmount: money,
  }),
  OrderPaid: z.object({
    orderId: id,
    userId,
    paymentId: id,
    amount: money,
  }),
  // Payments (issue 16): paymentId is payments.id; paymentKey is the gateway's idempotency key.
  PaymentRequested: z.object({
    orderId: id,
    userId,
    paymentId: id,
    paymentKey: z.uuid(),
    amount: money,
  }),
  PaymentFailed: z.object({
    orderId: id,
    userId,
    paymentId: id,
    amount: money,
    reason: z.string().min(1).max(200),
  }),
  PaymentRefunded: z.object({
    orderId: id,
    userId,
    paymentId: id,
    amount: money,
  }),
  OrderCancelled: z.object({
    orderId: id,
    userId,
    items: z.array(orderItemSchema).min(1),
    totalAmount: money,
    previousStatus: z.enum(['CREATED', 'PAID']),
  }),
  // Issue 25: an unpaid order whose payment window closed; its stock went back in the same transaction
  // (one StockAdjusted per item, reason 'order-expired'). Sales count it as they count a cancel.
  OrderExpired: z.object({
    orderId: id,
    userId,
    items: z.array(orderItemSchema).min(1),
    totalAmount: money,
    expiresAt: z.iso.datetime({ offset: true }),
  }),
} as const;

export type EventType = keyof typeof payloadSchemas;
export const EVENT_TYPES = Object.keys(payloadSchemas) as EventType[];
export type PayloadOf<T extends EventType> = z.infer<(typeof payloadSchemas)[T]>;
export type OrderItem = z.infer<typeof orderItemSchema>;

/** Which aggregate each event type belongs to; it decides the topic and the partition key. */
export const AGGREGATE_OF: Record<EventType, 'product' | 'order'> = {
  ProductCreated: 'product',
  ProductUpdated: 'product',
  StockAdjusted: 'product',
  LikeChanged: 'product',
  ProductViewed: 'product',
  OrderCreated: 'order',
  OrderPaid: 'order',
  OrderCancelled: 'order',
  OrderExpired: 'order',
  PaymentRequested: 'order',
  PaymentFailed: 'order',
  PaymentRefunded: 'order',
};
