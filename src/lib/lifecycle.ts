import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Gauge } from 'prom-client';
import type { Logger } from './log.js';

/**
 * The states of a long-running loop (relay, collector), in the order they normally go. `paused`: a
 * service it needs is unavailable; `rejoining`: a consumer out of its group, on its way back in.
 */
export const LOOP_STATES = ['starting', 'running', 'paused', 'rejoining', 'stopping', 'stopped'] as const;
export type LoopState = (typeof LOOP_STATES)[number];

/** Help text of a `<component>_state` gauge (label `state`). */
export const STATE_GAUGE_HELP = `1 for the loop's current state (${LOOP_STATES.join(', ')}), 0 for the others.`;

/** Unique per loop: host, pid and a random tail (what ps and the logs show). */
export function newInstanceId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Loops of this process not yet stopped: what a shutdown that overruns its deadline waits for. */
const live = new Set<Lifecycle>();

export function liveLoops(): Array<{ component: string; instance: string; state: LoopState }> {
  return [...live].map((l) => ({ component: l.component, instance: l.instance, state: l.state }));
}

/**
 * One loop's lifecycle, the same for the relay and the collector (what a loop offers its owner,
 * start / stop({ timeoutMs }) / finished, is the Loop contract of loop.ts):
 * - its own AbortController, aborted by the caller's signal or by abort() (stop()): sleeps, retry
 *   backoffs and claims ahead see it at once;
 * - its state, changed only by set(), which logs the change and sets the `<component>_state` gauge
 *   (1 for the current state, 0 for the others); a loop that is stopping only goes on to stopped;
 * - the child logger every line of the loop goes through, tagged with component and instance id.
 */
export class Lifecycle {
  readonly logger: Logger;
  private readonly gauge: Gauge<'state'>;
  private readonly controller = new AbortController();
  private current: LoopState = 'starting';
  private readonly detach: () => void;

  constructor(
    readonly component: string,
    readonly instance: string,
    parent: { logger: Logger; signal?: AbortSignal; gauge: Gauge<'state'> },
  ) {
    this.logger = parent.logger.child({ component, instance });
    this.gauge = parent.gauge;
    if (parent.signal?.aborted) this.abort();
    // Removed once stopped: a process that starts many loops on one signal (tests, the bench) would
    // otherwise keep every stopped loop reachable from it.
    const onAbort = () => this.abort();
    parent.signal?.addEventListener('abort', onAbort, { once: true });
    this.detach = () => parent.signal?.removeEventListener('abort', onAbort);
    this.setGauge();
    live.add(this);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get state(): LoopState {
    return this.current;
  }

  abort(): void {
    this.controller.abort();
  }

  set(next: LoopState, fields: Record<string, unknown> = {}): void {
    const from = this.current;
    if (next === from || from === 'stopped' || (from === 'stopping' && next !== 'stopped')) return;
    this.current = next;
    this.setGauge();
    if (next === 'stopped') {
      live.delete(this);
      this.detach();
    }
    const line = { ...fields, state: next, from };
    if (next === 'paused' || next === 'rejoining') this.logger.warn(line, `${this.component} ${next}`);
    else this.logger.info(line, `${this.component} ${next}`);
  }

  private setGauge(): void {
    for (const state of LOOP_STATES) this.gauge.set({ state }, state === this.current ? 1 : 0);
  }
}
