import { describe, expect, it } from 'vitest';
import { eventually } from '../support/wait.js';

describe('eventually', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(eventually(() => ++n >= 3 && n, 1_000, 1)).resolves.toBe(3);
  });

  it('names the last value it saw when the time is up', async () => {
    let n = 0;
    await expect(eventually(() => (++n, { rows: [] as number[] }).rows[0], 30, 5)).rejects.toThrow(
      /not met within 30 ms; the last value was undefined/,
    );
    await expect(eventually(async () => (n > 1e9 ? n : null), 20, 5)).rejects.toThrow(
      'the last value was null',
    );
  });

  it('rethrows the last assertion error, saying it timed out', async () => {
    let n = 0;
    const failure = await eventually(() => expect(++n).toBe(-1), 20, 5).catch((err: Error) => err);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(
      /not met within 20 ms; the last check threw: expected \d+ to be -1/,
    );
  });
});
