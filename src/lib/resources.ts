import type { Logger } from './log.js';

/**
 * A stack of cleanups: each resource registers its release when it is opened and
 * they run in reverse order on exit, so a pool is closed after the consumer that uses it.
 */
export class ResourceStack {
  private readonly stack: Array<{ name: string; release: () => Promise<void> | void }> = [];
  /** The resource being released right now, if any (what a stuck shutdown waits for). */
  releasing?: string;

  defer(name: string, release: () => Promise<void> | void): void {
    this.stack.push({ name, release });
  }

  /** Opens a resource and registers its release in one step. */
  async use<T>(
    name: string,
    open: () => Promise<T> | T,
    release: (value: T) => Promise<void> | void,
  ): Promise<T> {
    const value = await open();
    this.defer(name, () => release(value));
    return value;
  }

  async releaseAll(logger?: Logger): Promise<void> {
    while (this.stack.length > 0) {
      const { name, release } = this.stack.pop()!;
      this.releasing = name;
      try {
        await release();
        logger?.debug({ resource: name }, 'released');
      } catch (err) {
        logger?.warn({ resource: name, err }, 'release failed');
      }
    }
    this.releasing = undefined;
  }
}
