import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ForcedStop, StopDeadline, unlessForced } from '../../src/lib/loop.js';

describe('StopDeadline', () => {
  it('never forces without a deadline; 0 forces at once', () => {
    const d = new StopDeadline();
    d.arm(undefined);
    expect(d.forced).toBe(false);
    d.arm(0);
    expect(d.forced).toBe(true);
    expect(d.signal.reason).toBeInstanceOf(ForcedStop);
  });

  it('a later stop can bring the deadline forward, never push it back', async () => {
    const d = new StopDeadline();
    d.arm(20);
    d.arm(60_000);
    await unlessForced(new Promise(() => undefined), d); // within the test timeout only if the 20 ms deadline held
    expect(d.forced).toBe(true);
  });
});

describe('unlessForced', () => {
  it('leaves no listener on the deadline once the work settled (a loop calls it every step)', async () => {
    const d = new StopDeadline();
    for (let i = 0; i < 50; i++) await unlessForced(Promise.resolve(i), d);
    await unlessForced(Promise.reject(new Error('x')), d).catch(() => undefined);
    expect(getEventListeners(d.signal, 'abort')).toHaveLength(0);
  });

  it("resolves with the work's value before the deadline, undefined once forced", async () => {
    const d = new StopDeadline();
    expect(await unlessForced(Promise.resolve(7), d)).toBe(7);
    const hung = new Promise<number>(() => undefined);
    const waiting = unlessForced(hung, d);
    d.arm(0);
    expect(await waiting).toBeUndefined();
  });

  it('an abandoned failure is not an unhandled rejection; a failure before the deadline is thrown', async () => {
    const d = new StopDeadline();
    await expect(unlessForced(Promise.reject(new Error('boom')), d)).rejects.toThrow('boom');
    d.arm(0);
    let fail!: (e: Error) => void;
    const late = new Promise<number>((_, reject) => (fail = reject));
    expect(await unlessForced(late, d)).toBeUndefined();
    fail(new Error('late'));
    await new Promise((r) => setImmediate(r));
  });
});
