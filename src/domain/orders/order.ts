import type { OrderRow } from './sql.js';

/** An order as the API shows it (money in minor units). */
export interface Order {
  id: number;
  userId: string;
  status: OrderRow['status'];
  totalAmount: number;
  items: OrderRow['items'];
  createdAt: string;
  updatedAt: string;
  /** When the payment window closes: an order still unpaid then is expired (its stock given back). */
  expiresAt: string;
}

export function toOrder(row: OrderRow): Order {
  return {
    id: row.id,
    userId: row.user_id,
    status: row.status,
    totalAmount: row.total_amount,
    items: row.items ?? [],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    expiresAt: row.expires_at.toISOString(),
  };
}
