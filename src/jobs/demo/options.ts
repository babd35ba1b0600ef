export interface DemoOptions {
  users: number;
  products: number;
  orders: number;
  durationMs?: number;
  concurrency: number;
}

/** The demo's flag ranges (oclif enforces them: exit 2 before anything runs). */
export const DEMO_LIMITS = {
  users: { default: 20, min: 1, max: 10_000 },
  products: { default: 30, min: 1, max: 1_000 },
  orders: { default: 200, min: 1, max: 100_000 },
  concurrency: { default: 8, min: 1, max: 256 },
} as const;
