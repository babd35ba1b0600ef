/**
 * The one contract of every long-running loop of a process (relay, collector, view buffer, webhook
 * sender), after pg-boss's `stop({ graceful, timeout })` and graphile-worker's graceful-then-forceful
 * shutdown:
 * - `start()` begins the work (idempotent);
 * - `stop({ timeoutMs })` is graceful first: no new work is taken and the work in hand finishes. Once
 *   `timeoutMs` has passed (0: at once; absent: never) it turns forceful: the work in flight is
 *   abandoned and what the loop holds is given back (a relay's leases, a consumer's group membership,
 *   deliveries not acknowledged) before stop() resolves. Calling stop() again may only bring the
 *   deadline forward; every call resolves when the loop has stopped;
 * - `finished` resolves when the loop has ended, however it ended.
 */
export interface StopOptions {
  /** How long the graceful stop may take before it turns forceful; 0 forces at once. */
  timeoutMs?: number;
}

export interface Loop {
  start(): Promise<void> | void;
  stop(options?: StopOptions): Promise<unknown>;
  readonly finished: Promise<void>;
}

/** Thrown into (or the abort reason of) work abandoned by a forced stop. */
export class ForcedStop extends Error {
  constructor() {
    super('forced stop: work in flight abandoned');
    this.name = 'ForcedStop';
  }
}

/**
 * When a stop turns forceful: `signal` aborts (reason ForcedStop) once the earliest deadline any stop()
 * asked for has passed. A stop without a deadline never forces.
 */
export class StopDeadline {
  private readonly controller = new AbortController();
  private at = Infinity;
  private timer?: NodeJS.Timeout;

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get forced(): boolean {
    return this.controller.signal.aborted;
  }

  arm(timeoutMs: number | undefined): void {
    if (timeoutMs === undefined || this.forced) return;
    if (timeoutMs <= 0) return this.force();
    const at = Date.now() + timeoutMs;
    if (at >= this.at) return;
    this.at = at;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.force(), timeoutMs);
  }

  /** The loop has stopped: no deadline left to wait for. */
  clear(): void {
    clearTimeout(this.timer);
  }

  private force(): void {
    clearTimeout(this.timer);
    this.controller.abort(new ForcedStop());
  }
}

/** Resolves with the work's value, or with `undefined` once the stop turns forceful, whichever is first. */
export function unlessForced<T>(work: Promise<T>, deadline: StopDeadline): Promise<T | undefined> {
  if (deadline.forced) {
    work.catch(() => undefined); // abandoned: its failure is nobody's business now
    return Promise.resolve(undefined);
  }
  // The listener goes once the work settles: a loop calls this every step, on one deadline.
  return new Promise<T | undefined>((resolve, reject) => {
    const onForced = () => {
      work.catch(() => undefined);
      resolve(undefined);
    };
    deadline.signal.addEventListener('abort', onForced, { once: true });
    work.then(resolve, reject).finally(() => deadline.signal.removeEventListener('abort', onForced));
  });
}

/** The loops of this process not yet stopped: what a forced shutdown stops. */
const running = new Set<Loop>();

/** Registers a running loop; the returned function unregisters it (once it has stopped). */
export function trackLoop(loop: Loop): () => void {
  running.add(loop);
  return () => void running.delete(loop);
}

/**
 * Stops every running loop of the process with `options`; resolves when all have stopped (a loop
 * whose stop fails counts as stopped: the process is going away).
 */
export async function stopLoops(options: StopOptions): Promise<void> {
  await Promise.allSettled([...running].map((loop) => loop.stop(options)));
}
