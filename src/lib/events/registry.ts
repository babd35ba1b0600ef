import type { z } from 'zod';

/** Turns a payload of one version of an event type into the payload of the next version. */
export type Upcaster = (payload: unknown) => unknown;

/**
 * One event type's contract: its aggregate, the zod schema of each of its versions (index 0 is v1) and
 * the upcasters from each version to the next. The last version is the current one: what createEvent
 * writes and what every handler is compiled against. `S` is the current version's schema.
 */
export interface EventDefinition<S extends z.ZodType = z.ZodType> {
  readonly aggregate: 'product' | 'order';
  /** versions[n - 1] is version n. */
  readonly versions: readonly z.ZodType[];
  /** upcasters.get(n) turns version n into version n + 1, for every n below the current version. */
  readonly upcasters: ReadonlyMap<number, Upcaster>;
  readonly current: number;
  readonly schema: S;
}

/**
 * Builds an event type's versions in order, each new version with the upcaster from the one before:
 * `defineEvent('order', v1).next(v2, (p) => ...)`. The upcaster's parameter is typed by the previous
 * version and its result by the next, so a version can only be added together with its upcaster.
 */
export class EventVersions<S extends z.ZodType> implements EventDefinition<S> {
  constructor(
    readonly aggregate: 'product' | 'order',
    readonly versions: readonly z.ZodType[],
    readonly upcasters: ReadonlyMap<number, Upcaster>,
  ) {}

  get current(): number {
    return this.versions.length;
  }

  get schema(): S {
    return this.versions[this.versions.length - 1] as S;
  }

  /** A new version: a breaking change (removed, renamed or retyped field, a new required field...). */
  next<N extends z.ZodType>(schema: N, upcast: (previous: z.output<S>) => z.input<N>): EventVersions<N> {
    const upcasters = new Map(this.upcasters).set(this.current, upcast as Upcaster);
    return new EventVersions<N>(this.aggregate, [...this.versions, schema], upcasters);
  }
}

export function defineEvent<S extends z.ZodType>(aggregate: 'product' | 'order', v1: S): EventVersions<S> {
  return new EventVersions<S>(aggregate, [v1], new Map());
}

/**
 * The same type as a build that knows versions up to `max` only: what an older build reads (tests of a
 * rolling deploy: definitionsUpTo in event.ts). Versions above `max` are unknown to it.
 */
export function truncateVersions(definition: EventDefinition, max: number): EventDefinition {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`a version is a positive integer, got ${max}`);
  if (max >= definition.current) return definition;
  const versions = definition.versions.slice(0, max);
  return {
    aggregate: definition.aggregate,
    versions,
    upcasters: new Map([...definition.upcasters].filter(([from]) => from < max)),
    current: max,
    schema: versions[max - 1]!,
  };
}
