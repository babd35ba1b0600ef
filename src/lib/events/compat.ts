/** A JSON Schema document, as parsed. */
export type JsonSchema = { [key: string]: unknown };

/**
 * The compatibility gate (`commerce events check`): pure logic over JSON Schemas. A released version's
 * committed schema against what the zod definition of that version generates now: any change a reader
 * of that version would trip over is refused, whatever the direction, since both sides of Kafka
 * validate strictly:
 * - a reader built on the committed schema (another team, or our previous collector mid deploy)
 *   reading events the new code writes: a removed, retyped, optional-made or widened field breaks it
 *   (a zod reader dead-letters a value past its old bound or outside its old enum);
 * - the new code reading events written under the committed schema (retention, dead-letter replays):
 *   a new required field, an optional field made required, a narrowed enum or range breaks it.
 * Only a new optional field passes: it is a minor change and stays in its version. Anything else is a
 * new version with an upcaster (docs/event-evolution.md).
 */
export const COMPAT_RULES = [
  'removed-field',
  'retyped-field',
  'new-required-field',
  'optional-made-required',
  'required-made-optional',
  'narrowed-enum',
  'widened-enum',
  'narrowed-range',
  'widened-range',
  'changed-pattern',
  'removed-version',
  'removed-type',
  'missing-released-version',
] as const;
export type CompatRule = (typeof COMPAT_RULES)[number];

export interface SchemaChange {
  /** A dotted path into the payload; `[]` is an array's element; `(payload)` the payload itself. */
  field: string;
  rule: CompatRule;
  detail: string;
}

export interface Incompatibility extends SchemaChange {
  eventType: string;
  version: number;
}

/** `OrderCreated v1: items[].quantity: narrowed-range (minimum 0 -> 1)`. */
export function describeIncompatibility(i: Incompatibility): string {
  return `${i.eventType} v${i.version}: ${i.field}: ${i.rule} (${i.detail})`;
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'];
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'];

/** What changed between a released schema and the current one, as breaking changes (empty: compatible). */
export function compareSchemas(released: JsonSchema, current: JsonSchema): SchemaChange[] {
  const out: SchemaChange[] = [];
  walk(released, current, '', out);
  return out;
}

function walk(before: JsonSchema, after: JsonSchema, path: string, out: SchemaChange[]): void {
  const field = path || '(payload)';
  const add = (rule: CompatRule, detail: string) => out.push({ field, rule, detail });

  for (const key of ['type', 'format', 'anyOf', 'oneOf', 'allOf', '$ref', 'not'] as const) {
    if (!same(before[key], after[key])) {
      add('retyped-field', `${key} ${show(before[key])} -> ${show(after[key])}`);
      return; // what lies inside a retyped field is not comparable
    }
  }

  const beforeValues = allowed(before);
  const afterValues = allowed(after);
  if (!beforeValues && afterValues) add('narrowed-enum', `any value -> ${show(afterValues)}`);
  else if (beforeValues && !afterValues) add('widened-enum', `${show(beforeValues)} -> any value`);
  else if (beforeValues && afterValues) {
    const lost = beforeValues.filter((v) => !has(afterValues, v));
    const gained = afterValues.filter((v) => !has(beforeValues, v));
    if (lost.length > 0) add('narrowed-enum', `${show(lost)} no longer allowed`);
    if (gained.length > 0) add('widened-enum', `${show(gained)} now allowed`);
  }

  for (const key of LOWER_BOUNDS) bound(key, before[key], after[key], 'lower', add);
  for (const key of UPPER_BOUNDS) bound(key, before[key], after[key], 'upper', add);
  if (!same(before.pattern, after.pattern))
    add('changed-pattern', `${show(before.pattern)} -> ${show(after.pattern)}`);

  const beforeProps = (before.properties ?? {}) as Record<string, JsonSchema>;
  const afterProps = (after.properties ?? {}) as Record<string, JsonSchema>;
  const beforeRequired = new Set((before.required ?? []) as string[]);
  const afterRequired = new Set((after.required ?? []) as string[]);
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const name of Object.keys(beforeProps)) {
    if (!(name in afterProps)) {
      out.push({ field: at(name), rule: 'removed-field', detail: 'no longer in the schema' });
      continue;
    }
    if (beforeRequired.has(name) && !afterRequired.has(name))
      out.push({ field: at(name), rule: 'required-made-optional', detail: 'readers expect it' });
    if (!beforeRequired.has(name) && afterRequired.has(name))
      out.push({ field: at(name), rule: 'optional-made-required', detail: 'older events may lack it' });
    walk(beforeProps[name]!, afterProps[name]!, at(name), out);
  }
  for (const name of Object.keys(afterProps))
    if (!(name in beforeProps) && afterRequired.has(name))
      out.push({ field: at(name), rule: 'new-required-field', detail: 'older events lack it' });

  if (isSchema(before.items) || isSchema(after.items)) {
    if (isSchema(before.items) && isSchema(after.items)) walk(before.items, after.items, `${field}[]`, out);
    else add('retyped-field', `items ${show(before.items)} -> ${show(after.items)}`);
  }
  if (!same(before.additionalProperties, after.additionalProperties))
    add(
      after.additionalProperties === false ? 'narrowed-range' : 'widened-range',
      `additionalProperties ${show(before.additionalProperties)} -> ${show(after.additionalProperties)}`,
    );
}

function bound(
  key: string,
  before: unknown,
  after: unknown,
  side: 'lower' | 'upper',
  add: (rule: CompatRule, detail: string) => void,
): void {
  if (same(before, after)) return;
  const detail = `${key} ${show(before)} -> ${show(after)}`;
  if (typeof before !== 'number') return add('narrowed-range', detail); // a bound where none was
  if (typeof after !== 'number') return add('widened-range', detail); // a bound dropped
  const tighter = side === 'lower' ? after > before : after < before;
  add(tighter ? 'narrowed-range' : 'widened-range', detail);
}

/** The values an enum or const allows, or undefined when it allows any value of its type. */
function allowed(schema: JsonSchema): unknown[] | undefined {
  if ('const' in schema) return [schema.const];
  return Array.isArray(schema.enum) ? schema.enum : undefined;
}

function has(values: unknown[], value: unknown): boolean {
  return values.some((v) => same(v, value));
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function show(value: unknown): string {
  return value === undefined ? 'none' : JSON.stringify(value);
}

/**
 * The gate over every type: each committed (released) version against what its definition generates
 * now. A version without a committed file is new (published by `npm run schemas`) when it is the
 * current one; below the current one it was released and its file must not go missing. A committed
 * version or type the definitions no longer have is refused too: events of it are still on the topics.
 */
export function checkCompatibility(
  committed: ReadonlyMap<string, ReadonlyMap<number, JsonSchema>>,
  current: ReadonlyMap<string, { current: number; schemaAt: (version: number) => JsonSchema }>,
): Incompatibility[] {
  const out: Incompatibility[] = [];
  for (const [eventType, versions] of committed) {
    const definition = current.get(eventType);
    for (const [version, released] of [...versions].sort(([a], [b]) => a - b)) {
      if (!definition) {
        out.push({ eventType, version, field: '(type)', rule: 'removed-type', detail: 'no longer defined' });
      } else if (version > definition.current) {
        const detail = `the definition ends at v${definition.current}`;
        out.push({ eventType, version, field: '(version)', rule: 'removed-version', detail });
      } else {
        for (const change of compareSchemas(released, definition.schemaAt(version)))
          out.push({ eventType, version, ...change });
      }
    }
  }
  for (const [eventType, definition] of current) {
    const versions = committed.get(eventType);
    for (let version = 1; version < definition.current; version++)
      if (!versions?.has(version))
        out.push({
          eventType,
          version,
          field: '(version)',
          rule: 'missing-released-version',
          detail: `v${definition.current} exists, so v${version} was released: its schema file is missing`,
        });
  }
  return out;
}
