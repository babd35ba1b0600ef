import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxWaker } from '../../src/lib/outbox/waker.js';

describe('OutboxWaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => vi.useRealTimers());

  /** A send that completes when the test says so, counting sends and how many ran at once. */
  function sender() {
    const s = { sends: 0, inFlight: 0, maxInFlight: 0, finish: [] as Array<() => void> };
    const send = () => {
      s.sends++;
      s.inFlight++;
      s.maxInFlight = Math.max(s.maxInFlight, s.inFlight);
      return new Promise<void>((resolve) =>
        s.finish.push(() => {
          s.inFlight--;
          resolve();
        }),
      );
    };
    const completeAll = async () => {
      for (const f of s.finish.splice(0)) f();
      await vi.advanceTimersByTimeAsync(0);
    };
    return { s, send, completeAll };
  }

  it('sends the first request at once, a burst within the interval as one more send, a later request as another', async () => {
    const { s, send, completeAll } = sender();
    const waker = new OutboxWaker(send, 5);
    waker.wake();
    expect(s.sends).toBe(1);
    for (let i = 0; i < 100; i++) waker.wake();
    await completeAll();
    expect(s.sends).toBe(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(s.sends).toBe(2);
    await completeAll();
    await vi.advanceTimersByTimeAsync(50);
    expect(s.sends).toBe(2);
    waker.wake();
    expect(s.sends).toBe(3);
    await completeAll();
    expect(waker.sent).toBe(3);
    expect(s.maxInFlight).toBe(1);
  });

  it('never sends twice at once: requests during a slow send become one send after it', async () => {
    const { s, send, completeAll } = sender();
    const waker = new OutboxWaker(send, 5);
    waker.wake();
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 10; i++) waker.wake();
    expect(s.sends).toBe(1);
    await completeAll();
    expect(s.sends).toBe(2);
    await completeAll();
    expect(s.maxInFlight).toBe(1);
  });

  it('counts a failed send, does not throw, and drops wake-ups for a pause before trying again', async () => {
    let calls = 0;
    const waker = new OutboxWaker(async () => {
      calls++;
      throw new Error('connection refused');
    }, 5);
    waker.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(waker.failed).toBe(1);
    waker.wake();
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(500);
    expect(calls).toBe(2);
    expect(waker.failed).toBe(2);
  });

  it('sends nothing once stopped, not even a request already scheduled', async () => {
    const { s, send, completeAll } = sender();
    const waker = new OutboxWaker(send, 5);
    waker.wake();
    await completeAll();
    waker.wake();
    waker.stop();
    await vi.advanceTimersByTimeAsync(50);
    waker.wake();
    expect(s.sends).toBe(1);
  });
});
