/** Durations as operators type them: `7d`, `12h`, `30m`, `45s`, `500ms`. Anything else is an error. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PATTERN = /^(\d+)(ms|s|m|h|d)$/;

export function parseDuration(text: string): number {
  const match = PATTERN.exec(text.trim());
  if (!match)
    throw new Error(`"${text}" is not a duration; use a number and a unit: 500ms, 30s, 30m, 12h, 7d`);
  const value = Number(match[1]);
  const ms = value * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`"${text}" must be a positive duration`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)}s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)}m`;
  if (ms < 86_400_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  return `${(ms / 86_400_000).toFixed(1)}d`;
}
