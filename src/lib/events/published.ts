import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { EVENT_DEFINITIONS, EVENT_TYPES, type EventType } from './payloads.js';
import { schemaIdOf } from './schema-id.js';
import { UsageError } from '../errors.js';
import { asyncApiDocument, KEY_OF } from './asyncapi.js';
import { checkCompatibility, type Incompatibility, type JsonSchema } from './compat.js';

/**
 * The published contracts (issue 24): a JSON Schema (draft 2020-12) of every event type's payload at
 * every version, and an AsyncAPI 3 document of the topics, generated from the zod definitions
 * (payloads.ts) and committed under schemas/. `npm run schemas` rewrites them; a unit test fails when
 * they are stale; `commerce events check` compares the definitions with them (compat.ts).
 */
export const SCHEMAS_DIR = fileURLToPath(new URL('../../../schemas/', import.meta.url));

export type { JsonSchema } from './compat.js';

/** Where a type's schema at a version lives, relative to SCHEMAS_DIR. */
export function schemaPath(eventType: string, version: number): string {
  return `events/${eventType}/v${version}.json`;
}

/**
 * One version's payload schema as readers see it (zod's input side: a field with a default is
 * optional, and unknown fields are not refused, so a later additive field breaks no reader).
 */
export function payloadJsonSchema(eventType: EventType, version: number): JsonSchema {
  const definition = EVENT_DEFINITIONS[eventType];
  const schema = definition.versions[version - 1];
  if (!schema) throw new RangeError(`${eventType} has no version ${version}`);
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema;
  const { $schema, ...rest } = generated;
  return {
    $schema,
    $id: schemaIdOf(eventType, version),
    title: `${eventType} v${version}`,
    description: `The payload of ${eventType} events with schemaVersion ${version} (${definition.aggregate} aggregate).`,
    ...rest,
  };
}

/** Every published file, path (relative to SCHEMAS_DIR) -> content, as `npm run schemas` writes it. */
export function publishedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const type of EVENT_TYPES)
    for (let v = 1; v <= EVENT_DEFINITIONS[type].current; v++)
      files.set(schemaPath(type, v), json(payloadJsonSchema(type, v)));
  files.set('asyncapi.json', json(asyncApiDocument()));
  return files;
}

function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** The committed payload schemas: type -> version -> schema (a missing folder reads as none). */
export async function readCommittedSchemas(
  dir: string = SCHEMAS_DIR,
): Promise<Map<string, Map<number, JsonSchema>>> {
  const out = new Map<string, Map<number, JsonSchema>>();
  const eventsDir = `${dir.replace(/\/?$/, '/')}events/`;
  const types = await readdir(eventsDir, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const entry of types) {
    if (!entry.isDirectory()) continue;
    const versions = new Map<number, JsonSchema>();
    for (const file of await readdir(`${eventsDir}${entry.name}`)) {
      const match = /^v(\d+)\.json$/.exec(file);
      if (!match) continue;
      const text = await readFile(`${eventsDir}${entry.name}/${file}`, 'utf8');
      versions.set(Number(match[1]), JSON.parse(text) as JsonSchema);
    }
    out.set(entry.name, versions);
  }
  return out;
}

export interface EventsCheck {
  /** Committed (released) schemas compared. */
  checked: number;
  /** Versions defined that have no committed file yet (new: `npm run schemas` publishes them). */
  unpublished: Array<{ eventType: string; version: number }>;
  incompatible: Incompatibility[];
}

/** `commerce events check`: the definitions against the committed schemas of every released version. */
export async function checkEvents(dir: string = SCHEMAS_DIR): Promise<EventsCheck> {
  const committed = await readCommittedSchemas(dir);
  const current = new Map(
    EVENT_TYPES.map((t) => [
      t as string,
      { current: EVENT_DEFINITIONS[t].current, schemaAt: (v: number) => payloadJsonSchema(t, v) },
    ]),
  );
  const unpublished = EVENT_TYPES.flatMap((t) =>
    Array.from({ length: EVENT_DEFINITIONS[t].current }, (_, i) => i + 1)
      .filter((v) => !committed.get(t)?.has(v))
      .map((version) => ({ eventType: t as string, version })),
  );
  const checked = [...committed.values()].reduce((n, versions) => n + versions.size, 0);
  return { checked, unpublished, incompatible: checkCompatibility(committed, current) };
}

export interface EventTypeInfo {
  eventType: EventType;
  aggregate: 'product' | 'order';
  topic: string;
  /** What the message key is: the aggregate's id. */
  key: string;
  versions: number[];
  current: number;
  /** The current version's schema id (JSON Schema $id, CloudEvents dataschema). */
  dataschema: string;
}

/** `commerce events list`: every type with its versions, topic and key (topics as this environment names them). */
export function listEventTypes(topics: { catalog: string; order: string }): EventTypeInfo[] {
  return EVENT_TYPES.map((eventType) => {
    const { aggregate, current } = EVENT_DEFINITIONS[eventType];
    return {
      eventType,
      aggregate,
      topic: aggregate === 'product' ? topics.catalog : topics.order,
      key: `${KEY_OF[aggregate]} (aggregateId)`,
      versions: Array.from({ length: current }, (_, i) => i + 1),
      current,
      dataschema: schemaIdOf(eventType, current),
    };
  });
}

/**
 * `commerce events schema TYPE [--version N]`: the JSON Schema of a type at a version (default the
 * current one); an unknown type or version is a usage error naming it (exit 2).
 */
export function eventSchema(eventType: string, version?: number): JsonSchema {
  if (!(EVENT_TYPES as string[]).includes(eventType))
    throw new UsageError(`unknown event type "${eventType}" (one of ${EVENT_TYPES.join(', ')})`);
  const type = eventType as EventType;
  const { current } = EVENT_DEFINITIONS[type];
  if (version !== undefined && (version < 1 || version > current))
    throw new UsageError(`${type} has no version ${version} (versions 1 to ${current})`);
  return payloadJsonSchema(type, version ?? current);
}
