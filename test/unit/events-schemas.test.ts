import { readFile } from 'node:fs/promises';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { EVENT_DEFINITIONS, EVENT_TYPES, schemaIdOf } from '../../src/lib/events/index.js';
import {
  checkEvents,
  eventSchema,
  listEventTypes,
  publishedFiles,
  readCommittedSchemas,
  SCHEMAS_DIR,
} from '../../src/lib/events/published.js';
import { UsageError } from '../../src/lib/errors.js';

describe('schemas/ (published event contracts)', () => {
  const files = publishedFiles();

  it('are what the zod definitions generate (stale: run `npm run schemas`)', async () => {
    for (const [path, content] of files)
      expect(await readFile(`${SCHEMAS_DIR}${path}`, 'utf8'), path).toBe(content);
    const committed = await readCommittedSchemas();
    expect([...committed.keys()].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('one JSON Schema (draft 2020-12) per type and version, its $id the schema id', () => {
    for (const type of EVENT_TYPES)
      for (let v = 1; v <= EVENT_DEFINITIONS[type].current; v++) {
        const schema = JSON.parse(files.get(`events/${type}/v${v}.json`)!);
        expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
        expect(schema.$id).toBe(schemaIdOf(type, v));
      }
    expect(JSON.parse(files.get('events/OrderCreated/v2.json')!).required).toContain('currency');
  });

  it('the AsyncAPI document parses without errors or warnings, with every topic, key and message', async () => {
    const { document, diagnostics } = await new Parser().parse(files.get('asyncapi.json')!);
    expect(diagnostics.filter((d) => d.severity <= 1)).toEqual([]);
    expect(document).toBeDefined();
    expect(
      document!
        .channels()
        .all()
        .map((c) => c.address())
        .sort(),
    ).toEqual(['catalog-events', 'catalog-events.dlq', 'order-events', 'order-events.dlq']);
    const messages = document!.messages().all();
    expect(messages.map((m) => m.id())).toEqual(
      expect.arrayContaining(['OrderCreated.v1', 'OrderCreated.v2', 'ProductViewed.v1', 'deadLetter']),
    );
    const created = messages.find((m) => m.id() === 'OrderCreated.v2')!;
    expect(Object.keys(created.headers()!.properties()!)).toEqual(
      expect.arrayContaining([
        'ce_specversion',
        'ce_id',
        'ce_source',
        'ce_type',
        'ce_time',
        'ce_subject',
        'ce_dataschema',
        'content-type',
        'event-id',
        'event-type',
        'aggregate-type',
        'aggregate-version',
      ]),
    );
    expect(created.bindings().get('kafka')?.value().key.description).toMatch(/orderId/);
  });

  it('events check passes on the committed schemas', async () => {
    const result = await checkEvents();
    expect(result.incompatible).toEqual([]);
    expect(result.unpublished).toEqual([]);
    expect(result.checked).toBe(files.size - 1);
  });

  it('events list and events schema', () => {
    const types = listEventTypes({ catalog: 'catalog-events', order: 'order-events' });
    expect(types.find((t) => t.eventType === 'OrderCreated')).toEqual({
      eventType: 'OrderCreated',
      aggregate: 'order',
      topic: 'order-events',
      key: 'orderId (aggregateId)',
      versions: [1, 2],
      current: 2,
      dataschema: 'urn:commerce:event:OrderCreated:v2',
    });
    expect(eventSchema('OrderCreated').$id).toBe('urn:commerce:event:OrderCreated:v2');
    expect(eventSchema('OrderCreated', 1).$id).toBe('urn:commerce:event:OrderCreated:v1');
    expect(() => eventSchema('OrderShipped')).toThrow(UsageError);
    expect(() => eventSchema('OrderShipped')).toThrow(/unknown event type "OrderShipped"/);
    expect(() => eventSchema('OrderCreated', 3)).toThrow(/OrderCreated has no version 3/);
  });
});
