/**
 * What the traffic implies, computed only from the answers the API actually gave: an order refused
 * with 409 (sold out) moves nothing, a like that changed nothing is still the user's final state, a
 * cancellation counts only when it was accepted. This is what product_metrics must equal.
 */
export interface ExpectedMetrics {
  productId: number;
  viewCount: number;
  likeCount: number;
  salesCount: number;
  salesAmount: number;
  stock: number;
}

export interface OrderItem {
  productId: number;
  quantity: number;
  unitPrice: number;
}

export class Ledger {
  private readonly metrics = new Map<number, ExpectedMetrics>();
  /** The last state the API confirmed per user and product: the like count is the number of true. */
  private readonly likes = new Map<string, boolean>();
  readonly counts = {
    requests: 0,
    views: 0,
    likeCalls: 0,
    orders: 0,
    soldOut: 0,
    paid: 0,
    cancelled: 0,
    /** Orders left unpaid past the demo's payment window, expired by `orders expire`. */
    expired: 0,
    unexpected: 0,
  };
  readonly unexpected: string[] = [];

  constructor(products: Array<{ id: number; stock: number }>) {
    for (const p of products) {
      this.metrics.set(p.id, {
        productId: p.id,
        viewCount: 0,
        likeCount: 0,
        salesCount: 0,
        salesAmount: 0,
        stock: p.stock,
      });
    }
  }

  viewed(productId: number): void {
    this.counts.views++;
    this.of(productId).viewCount++;
  }

  liked(user: string, productId: number, liked: boolean): void {
    this.counts.likeCalls++;
    this.likes.set(`${user}\u0000${productId}`, liked);
  }

  ordered(items: OrderItem[]): void {
    this.counts.orders++;
    this.move(items, 1);
  }

  cancelled(items: OrderItem[]): void {
    this.counts.cancelled++;
    this.move(items, -1);
  }

  /** An order that expired: its stock went back and its sales no longer count, as for a cancel. */
  expired(items: OrderItem[]): void {
    this.counts.expired++;
    this.move(items, -1);
  }

  /** A response the demo did not plan for (5xx, network error): the expectation is then unknowable. */
  surprise(what: string): void {
    this.counts.unexpected++;
    if (this.unexpected.length < 20) this.unexpected.push(what);
  }

  expected(): ExpectedMetrics[] {
    const likeCounts = new Map<number, number>();
    for (const [key, liked] of this.likes) {
      const productId = Number(key.split('\u0000')[1]);
      if (liked) likeCounts.set(productId, (likeCounts.get(productId) ?? 0) + 1);
    }
    return [...this.metrics.values()].map((m) => ({ ...m, likeCount: likeCounts.get(m.productId) ?? 0 }));
  }

  private move(items: OrderItem[], sign: 1 | -1): void {
    for (const item of items) {
      const m = this.of(item.productId);
      m.salesCount += sign * item.quantity;
      m.salesAmount += sign * item.quantity * item.unitPrice;
      m.stock -= sign * item.quantity;
    }
  }

  private of(productId: number): ExpectedMetrics {
    const m = this.metrics.get(productId);
    if (!m) throw new Error(`product ${productId} is not one of the seeded products`);
    return m;
  }
}
