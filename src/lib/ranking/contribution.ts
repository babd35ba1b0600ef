import type { DomainEvent } from '../events/index.js';

/**
 * The additive part of one event's effect on one product (views, net likes, units, amount), shared by
 * the live ranking and the collector's metrics fold. Sales count created orders: OrderCreated adds
 * units and amount, OrderCancelled and OrderExpired (the order gave its stock back unsold) subtract
 * them, OrderPaid changes nothing.
 */
export interface Contribution {
  productId: number;
  views: number;
  likes: number;
  units: number;
  amount: number;
}

// Object literals of one shape rather than spreads: this runs several times per event in the collector.
export function contributions(event: DomainEvent): Contribution[] {
  switch (event.eventType) {
    case 'ProductViewed':
      return [
        { productId: event.payload.productId, views: event.payload.count, likes: 0, units: 0, amount: 0 },
      ];
    case 'LikeChanged':
      return [
        {
          productId: event.payload.productId,
          views: 0,
          likes: event.payload.liked ? 1 : -1,
          units: 0,
          amount: 0,
        },
      ];
    case 'OrderCreated':
    case 'OrderCancelled':
    case 'OrderExpired': {
      const sign = event.eventType === 'OrderCreated' ? 1 : -1;
      return event.payload.items.map((item) => ({
        productId: item.productId,
        views: 0,
        likes: 0,
        units: sign * item.quantity,
        amount: sign * item.quantity * item.unitPrice,
      }));
    }
    default:
      return [];
  }
}
