/** What a stage measured: figures (each with its baseline when it has one) and the targets it checks. */
export interface Figure {
  stage: string;
  name: string;
  value: number;
  unit: string;
  /** The same measure for the baseline run in the same process, on the same services. */
  baseline?: { name: string; value: number };
  /** value / baseline.value (for rates: higher is better; for times, see the target). */
  ratio?: number;
}

export interface Target {
  stage: string;
  description: string;
  actual: number;
  threshold: number;
  /** 'min': actual >= threshold is met; 'max': actual <= threshold. */
  kind: 'min' | 'max';
  met: boolean;
}

export interface StageResult {
  figures: Figure[];
  targets: Target[];
}

export interface StageOptions {
  quick: boolean;
  log: (message: string) => void;
}

export function figure(
  stage: string,
  name: string,
  value: number,
  unit: string,
  baseline?: { name: string; value: number },
): Figure {
  const ratio = baseline && baseline.value > 0 ? value / baseline.value : undefined;
  return { stage, name, value, unit, ...(baseline ? { baseline, ratio } : {}) };
}

export function target(
  stage: string,
  description: string,
  actual: number,
  kind: 'min' | 'max',
  threshold: number,
): Target {
  const met = kind === 'min' ? actual >= threshold : actual <= threshold;
  return { stage, description, actual, threshold, kind, met };
}

/** Milliseconds `fn` took (monotonic clock). */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

/** Polls `check` until it returns true, or throws after `timeoutMs` naming what it waited for. */
export async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 600_000,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const perSecond = (count: number, ms: number) => (count * 1000) / ms;
