/**
 * The best `limit` items of a stream, in memory bounded by `limit` whatever the stream's length.
 * A binary min-heap keyed on "worst first": the root is the weakest item kept, so a newcomer only
 * has to beat the root to get in (O(log limit) per item).
 *
 * `compare(a, b) < 0` means a ranks before (better than) b; it must be a total order for the result
 * to be deterministic (break ties on an id).
 */
export class TopN<T> {
  private readonly heap: T[] = [];

  constructor(
    readonly limit: number,
    private readonly compare: (a: T, b: T) => number,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer`);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Offers an item; returns true if it was kept. */
  push(item: T): boolean {
    if (this.heap.length < this.limit) {
      this.heap.push(item);
      this.siftUp(this.heap.length - 1);
      return true;
    }
    if (this.compare(item, this.heap[0]!) >= 0) return false;
    this.heap[0] = item;
    this.siftDown(0);
    return true;
  }

  /** The kept items, best first (a copy; the heap is unchanged). */
  sorted(): T[] {
    return [...this.heap].sort(this.compare);
  }

  // "a is weaker than b": weaker items float to the root.
  private weaker(i: number, j: number): boolean {
    return this.compare(this.heap[i]!, this.heap[j]!) > 0;
  }

  private swap(i: number, j: number): void {
    [this.heap[i], this.heap[j]] = [this.heap[j]!, this.heap[i]!];
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.weaker(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const n = this.heap.length;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let weakest = i;
      if (left < n && this.weaker(left, weakest)) weakest = left;
      if (right < n && this.weaker(right, weakest)) weakest = right;
      if (weakest === i) return;
      this.swap(i, weakest);
      i = weakest;
    }
  }
}
