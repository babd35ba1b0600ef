import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';

export interface DemoOptions {
  users: number;
  products: number;
  orders: number;
  durationMs?: number;
  concurrency: number;
}

export const DEMO_LIMITS = {
  users: { default: 20, min: 1, max: 10_000 },
  products: { default: 30, min: 1, max: 1_000 },
  orders: { default: 200, min: 1, max: 100_000 },
  concurrency: { default: 8, min: 1, max: 256 },
} as const;

type Limited = keyof typeof DEMO_LIMITS;

/** Validates the demo's flags (UsageError, exit 2, before anything runs). */
export function parseDemoOptions(raw: Partial<Record<Limited, number>> & { duration?: string }): DemoOptions {
  const value = (name: Limited) => {
    const { default: fallback, min, max } = DEMO_LIMITS[name];
    const v = raw[name] ?? fallback;
    if (!Number.isInteger(v) || v < min || v > max)
      throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${v}`);
    return v;
  };
  let durationMs: number | undefined;
  if (raw.duration !== undefined) {
    try {
      durationMs = parseDuration(raw.duration);
    } catch (err) {
      throw new UsageError(`--duration: ${(err as Error).message}`);
    }
  }
  return {
    users: value('users'),
    products: value('products'),
    orders: value('orders'),
    concurrency: value('concurrency'),
    durationMs,
  };
}
