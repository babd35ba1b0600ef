import { z } from 'zod';
import { defineEvent, type EventDefinition } from './registry.js';

/** Payload schemas per event type. Ids are positive integers; money is in minor units. */
const id = z.number().int().positive();
const userId = z.string().min(1).max(100);
const money = z.number().int().nonnegative();

export const orderItemSchema = z.object({
  productId: id,
  quantity: z.number().int().positive(),
  unitPrice: money,
});

/**
 * The currency of every order before OrderCreated v2 said which (the shop sells in one currency; prices
 * are integers in minor units with two decimals: the demo's 10.00 to 250.00). The v1 upcaster fills it
 * in, and stays 'USD' whatever the shop sells in later: it is what a v1 event meant.
 */
export const DEFAULT_CURRENCY = 'USD';

/** An ISO 4217 alphabetic currency code. */
const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code');

const orderCreatedV1 = z.object({
  orderId: id,
  userId,
  items: z.array(orderItemSchema).min(1),
  totalAmount: money,
});

/** v2 (issue 24): the order's currency and each line's total (quantity × unitPrice, minor units). */
export const orderLineSchema = orderItemSchema.extend({ lineTotal: money });
const orderCreatedV2 = z.object({
  orderId: id,
  userId,
  currency,
  items: z.array(orderLineSchema).min(1),
  totalAmount: money,
});

/**
 * OrderCreated v1 -> v2: the currency every v1 order was in, each line's total from its quantity and
 * unit price (what the API computes for v2, and what the sales metrics always counted).
 */
export function orderCreatedFromV1(v1: z.output<typeof orderCreatedV1>): z.output<typeof orderCreatedV2> {
  return {
    ...v1,
    currency: DEFAULT_CURRENCY,
    items: v1.items.map((item) => ({ ...item, lineTotal: item.quantity * item.unitPrice })),
  };
}

/**
 * Every event type, defined once: its aggregate (which decides the topic and the partition key) and
 * its schema versions, each new version with the upcaster from the one before (registry.ts). A change
 * that only adds an optional field stays in its version; any other change is a new version, and
 * `commerce events check` refuses it in place (docs/event-evolution.md).
 */
export const EVENT_DEFINITIONS = {
  ProductCreated: defineEvent(
    'product',
    z.object({
      productId: id,
      brandId: id,
      name: z.string(),
      price: money,
      stock: z.number().int().nonnegative(),
    }),
  ),
  ProductUpdated: defineEvent(
    'product',
    z.object({
      productId: id,
      name: z.string().optional(),
      description: z.string().optional(),
      price: money.optional(),
    }),
  ),
  StockAdjusted: defineEvent(
    'product',
    z.object({
      productId: id,
      delta: z.number().int(),
      newStock: z.number().int().nonnegative(),
      reason: z.string().min(1).max(200),
      orderId: id.optional(),
    }),
  ),
  LikeChanged: defineEvent(
    'product',
    z.object({
      productId: id,
      userId,
      liked: z.boolean(),
      likeCount: z.number().int().nonnegative(),
    }),
  ),
  // Views are counted in the API process and flushed in batches: one event may carry many views.
  ProductViewed: defineEvent(
    'product',
    z.object({
      productId: id,
      count: z.number().int().positive(),
    }),
  ),
  OrderCreated: defineEvent('order', orderCreatedV1).next(orderCreatedV2, orderCreatedFromV1),
  OrderPaid: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      paymentId: id,
      amount: money,
    }),
  ),
  // Payments (issue 16): paymentId is payments.id; paymentKey is the gateway's idempotency key.
  PaymentRequested: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      paymentId: id,
      paymentKey: z.uuid(),
      amount: money,
    }),
  ),
  PaymentFailed: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      paymentId: id,
      amount: money,
      reason: z.string().min(1).max(200),
    }),
  ),
  PaymentRefunded: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      paymentId: id,
      amount: money,
    }),
  ),
  OrderCancelled: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      items: z.array(orderItemSchema).min(1),
      totalAmount: money,
      previousStatus: z.enum(['CREATED', 'PAID']),
    }),
  ),
  // Issue 25: an unpaid order whose payment window closed; its stock went back in the same transaction
  // (one StockAdjusted per item, reason 'order-expired'). Sales count it as they count a cancel.
  OrderExpired: defineEvent(
    'order',
    z.object({
      orderId: id,
      userId,
      items: z.array(orderItemSchema).min(1),
      totalAmount: money,
      expiresAt: z.iso.datetime({ offset: true }),
    }),
  ),
} as const satisfies Record<string, EventDefinition>;

export type EventType = keyof typeof EVENT_DEFINITIONS;
export const EVENT_TYPES = Object.keys(EVENT_DEFINITIONS) as EventType[];

/** Each type's current payload schema: what createEvent writes and what handlers see. */
export const payloadSchemas = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, EVENT_DEFINITIONS[t].schema]),
) as { [T in EventType]: (typeof EVENT_DEFINITIONS)[T]['schema'] };

export type PayloadOf<T extends EventType> = z.infer<(typeof payloadSchemas)[T]>;
export type OrderItem = z.infer<typeof orderItemSchema>;
export type OrderLine = z.infer<typeof orderLineSchema>;

/** Which aggregate each event type belongs to; it decides the topic and the partition key. */
export const AGGREGATE_OF = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, EVENT_DEFINITIONS[t].aggregate]),
) as Record<EventType, 'product' | 'order'>;
