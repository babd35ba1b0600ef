import { inspect } from 'node:util';

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/**
 * Polls `check` until it returns a truthy value or the time is up. On timeout the failure says what
 * was last seen: the last error `check` threw (an assertion error already shows expected and actual),
 * or else the last falsy value it returned.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown };
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) throw timedOut(timeoutMs, last);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function timedOut(timeoutMs: number, last: { value: unknown } | { error: unknown }): unknown {
  const what =
    'error' in last
      ? `the last check threw: ${last.error instanceof Error ? last.error.message : inspect(last.error)}`
      : `the last value was ${inspect(last.value, { depth: 4, breakLength: Infinity })}`;
  const err = new Error(`eventually: not met within ${timeoutMs} ms; ${what}`, {
    cause: 'error' in last ? last.error : undefined,
  });
  // An assertion error keeps its own type and diff (vitest prints them); the message says it timed out.
  if ('error' in last && last.error instanceof Error) {
    last.error.message = err.message;
    return last.error;
  }
  return err;
}
