/**
 * The simulator's knobs as flags give them. Durations may be a fixed value (`50ms`) or a range
 * (`20ms-200ms`, drawn uniformly per request); zero is allowed (no latency). Rates are shares 0..1.
 */
export interface DurationRange {
  minMs: number;
  maxMs: number;
}

export interface SimulatorOptions {
  failureRate: number;
  latency: DurationRange;
  settleDelay: DurationRange;
  successRate: number;
  callbackLossRate: number;
  callbackDuplicateRate: number;
  /** Unset: Math.random. Set: every random choice is a function of (seed, paymentId, request number). */
  seed: string | undefined;
  /** Signs callbacks (env GATEWAY_SECRET). */
  secret: string;
}

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000 } as const;
const ONE = /^(\d+)(ms|s|m)$/;
const MAX_MS = 3_600_000;

function parseOne(text: string, whole: string): number {
  const match = ONE.exec(text.trim());
  if (!match) throw new Error(`"${whole}" is not a duration or range; use 50ms, 2s or 20ms-200ms`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms > MAX_MS) throw new Error(`"${whole}" is longer than an hour`);
  return ms;
}

export function parseDurationRange(text: string): DurationRange {
  const parts = text.split('-');
  if (parts.length > 2) throw new Error(`"${text}" is not a duration or range; use 50ms, 2s or 20ms-200ms`);
  const minMs = parseOne(parts[0]!, text);
  const maxMs = parts.length === 2 ? parseOne(parts[1]!, text) : minMs;
  if (maxMs < minMs) throw new Error(`"${text}": the range must go from the shorter to the longer duration`);
  return { minMs, maxMs };
}

export function parseRate(text: string): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (trimmed === '' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new Error(`"${text}" is not a rate; use a number from 0 to 1, e.g. 0.3`);
  }
  return value;
}

/** A value of the range for a random draw r in [0, 1). */
export function pick(range: DurationRange, r: number): number {
  return Math.round(range.minMs + (range.maxMs - range.minMs) * r);
}
