import { COMMUTES, type HandlerName, type HandlerSet } from './handlers.js';
import { EarlierChunkUnfinished } from './process-chunk.js';

/**
 * Awaited before a step of a chunk's work serving `handlers`: resolves at once if they all commute,
 * else once every earlier chunk has completed; rejects with EarlierChunkUnfinished if one did not.
 */
export type Turn = (handlers: readonly HandlerName[]) => Promise<void>;

/**
 * Chunks of one partition taken side by side (the batch handler's window), each with its turn: a step
 * serving a handler whose effect does not commute (handlers.ts, COMMUTES) runs for chunk k only once
 * every earlier chunk has completed, retries and one-by-one narrowing included; steps of handlers that
 * commute run at once. So the order-sensitive effects happen in offset order, hence in order per
 * aggregate, while the others overlap. If an earlier chunk fails or is stopped, the later chunks'
 * order-sensitive steps throw EarlierChunkUnfinished without running.
 */
export class ChunkTurns {
  /** Settles when every chunk run so far has completed; rejects if one did not. */
  private done: Promise<void> = Promise.resolve();

  constructor(private readonly handlers: HandlerSet) {}

  /** Runs the next chunk (in offset order), giving it its `turn` for its steps. */
  next<T extends { complete: boolean; held?: unknown }>(chunk: (turn: Turn) => Promise<T>): Promise<T> {
    const earlier = this.done;
    const turn: Turn = (handlers) =>
      handlers.some((h) => this.handlers.has(h) && !COMMUTES[h]) ? earlier : Promise.resolve();
    const outcome = chunk(turn);
    this.done = (async () => {
      await earlier;
      const result = await outcome.catch((err: unknown) => {
        throw new EarlierChunkUnfinished(err);
      });
      if (!result.complete || result.held) throw new EarlierChunkUnfinished(); // held: see PartitionHeld
    })();
    this.done.catch(() => undefined); // observed by the next chunk's turn, if it has one
    return outcome;
  }
}
