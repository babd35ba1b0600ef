import { mkdtemp, cp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkCompatibility,
  compareSchemas,
  describeIncompatibility,
  type CompatRule,
} from '../../src/lib/events/compat.js';
import {
  checkEvents,
  payloadJsonSchema,
  SCHEMAS_DIR,
  type JsonSchema,
} from '../../src/lib/events/published.js';

/** The committed OrderCreated v1 and OrderCancelled v1 schemas, copied: each test changes a copy. */
const orderCreated = () => structuredClone(payloadJsonSchema('OrderCreated', 1));
const orderCancelled = () => structuredClone(payloadJsonSchema('OrderCancelled', 1));
type Props = Record<string, JsonSchema>;
const props = (s: JsonSchema) => s.properties as Props;
const item = (s: JsonSchema) => props(props(s).items!.items as JsonSchema) as Props;

const cases: Array<[string, () => [JsonSchema, JsonSchema], CompatRule, string]> = [
  [
    'removed field',
    () => {
      const next = orderCreated();
      delete props(next).userId;
      next.required = (next.required as string[]).filter((n) => n !== 'userId');
      return [orderCreated(), next];
    },
    'removed-field',
    'userId',
  ],
  [
    'retyped field',
    () => {
      const next = orderCreated();
      props(next).userId = { type: 'integer' };
      return [orderCreated(), next];
    },
    'retyped-field',
    'userId',
  ],
  [
    'new required field',
    () => {
      const next = orderCreated();
      props(next).currency = { type: 'string' };
      (next.required as string[]).push('currency');
      return [orderCreated(), next];
    },
    'new-required-field',
    'currency',
  ],
  [
    'optional made required',
    () => {
      const before = orderCreated();
      props(before).note = { type: 'string' };
      const after = structuredClone(before);
      (after.required as string[]).push('note');
      return [before, after];
    },
    'optional-made-required',
    'note',
  ],
  [
    'required made optional',
    () => {
      const next = orderCreated();
      next.required = (next.required as string[]).filter((n) => n !== 'totalAmount');
      return [orderCreated(), next];
    },
    'required-made-optional',
    'totalAmount',
  ],
  [
    'narrowed enum',
    () => {
      const next = orderCancelled();
      props(next).previousStatus!.enum = ['CREATED'];
      return [orderCancelled(), next];
    },
    'narrowed-enum',
    'previousStatus',
  ],
  [
    'widened enum (an old zod reader refuses the new value)',
    () => {
      const next = orderCancelled();
      props(next).previousStatus!.enum = ['CREATED', 'PAID', 'SHIPPED'];
      return [orderCancelled(), next];
    },
    'widened-enum',
    'previousStatus',
  ],
  [
    'narrowed range: a higher minimum, nested in the items',
    () => {
      const next = orderCreated();
      item(next).unitPrice!.minimum = 1;
      return [orderCreated(), next];
    },
    'narrowed-range',
    'items[].unitPrice',
  ],
  [
    'narrowed range: a lower maxLength',
    () => {
      const next = orderCreated();
      props(next).userId!.maxLength = 50;
      return [orderCreated(), next];
    },
    'narrowed-range',
    'userId',
  ],
  [
    'narrowed range: more minItems',
    () => {
      const next = orderCreated();
      props(next).items!.minItems = 2;
      return [orderCreated(), next];
    },
    'narrowed-range',
    'items',
  ],
  [
    'widened range',
    () => {
      const next = orderCreated();
      props(next).userId!.maxLength = 500;
      return [orderCreated(), next];
    },
    'widened-range',
    'userId',
  ],
  [
    'changed pattern',
    () => {
      const before = orderCreated();
      props(before).userId!.pattern = '^u';
      const after = structuredClone(before);
      props(after).userId!.pattern = '^user-';
      return [before, after];
    },
    'changed-pattern',
    'userId',
  ],
];

describe('compareSchemas (the compatibility gate, one rule at a time)', () => {
  it.each(cases)('%s is refused', (_name, make, rule, field) => {
    const [before, after] = make();
    expect(compareSchemas(before, after)).toEqual([expect.objectContaining({ rule, field })]);
  });

  it('passes an additive optional field, and an unchanged schema', () => {
    const next = orderCreated();
    props(next).note = { type: 'string', maxLength: 200 };
    item(next).giftWrap = { type: 'boolean' };
    expect(compareSchemas(orderCreated(), next)).toEqual([]);
    expect(compareSchemas(orderCreated(), orderCreated())).toEqual([]);
  });

  it('the message names type, version, field and rule', () => {
    const next = orderCreated();
    item(next).quantity!.exclusiveMinimum = 1;
    const [change] = compareSchemas(orderCreated(), next);
    expect(describeIncompatibility({ eventType: 'OrderCreated', version: 1, ...change! })).toBe(
      'OrderCreated v1: items[].quantity: narrowed-range (exclusiveMinimum 0 -> 1)',
    );
  });
});

describe('checkCompatibility (versions)', () => {
  const current = new Map([
    ['OrderCreated', { current: 2, schemaAt: (v: number) => payloadJsonSchema('OrderCreated', v) }],
  ]);
  const v1 = payloadJsonSchema('OrderCreated', 1);
  const v2 = payloadJsonSchema('OrderCreated', 2);

  it('a new version without its file yet is fine', () => {
    expect(checkCompatibility(new Map([['OrderCreated', new Map([[1, v1]])]]), current)).toEqual([]);
  });

  it("a released version's missing file, a version or a type no longer defined are refused", () => {
    const rules = (committed: Map<string, Map<number, JsonSchema>>) =>
      checkCompatibility(committed, current).map((i) => `${i.eventType} v${i.version} ${i.rule}`);
    expect(rules(new Map([['OrderCreated', new Map([[2, v2]])]]))).toEqual([
      'OrderCreated v1 missing-released-version',
    ]);
    expect(
      rules(
        new Map([
          [
            'OrderCreated',
            new Map([
              [1, v1],
              [2, v2],
              [3, v2],
            ]),
          ],
        ]),
      ),
    ).toEqual(['OrderCreated v3 removed-version']);
    expect(
      rules(
        new Map([
          ['OrderCreated', new Map([[1, v1]])],
          ['OrderShipped', new Map([[1, v1]])],
        ]),
      ),
    ).toEqual(['OrderShipped v1 removed-type']);
  });

  it('v1 changed in place (v2 fields forced into v1) is refused, naming the version', () => {
    const committed = new Map([
      [
        'OrderCreated',
        new Map([
          [1, v1],
          [2, v2],
        ]),
      ],
    ]);
    const inPlace = new Map([
      [
        'OrderCreated',
        { current: 2, schemaAt: (v: number) => payloadJsonSchema('OrderCreated', v === 1 ? 2 : v) },
      ],
    ]);
    const found = checkCompatibility(committed, inPlace);
    expect(found.map((i) => `${i.version} ${i.field} ${i.rule}`)).toEqual(
      expect.arrayContaining(['1 currency new-required-field', '1 items[].lineTotal new-required-field']),
    );
    expect(found.every((i) => i.version === 1)).toBe(true);
  });
});

describe('checkEvents on a copy of schemas/', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(`${tmpdir()}/commerce-schemas-`);
    await cp(SCHEMAS_DIR, dir, { recursive: true });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('fails when a committed schema says more than the definition (a field the code removed)', async () => {
    const file = `${dir}/events/OrderPaid/v1.json`;
    const schema = payloadJsonSchema('OrderPaid', 1);
    props(schema).channel = { type: 'string' };
    await writeFile(file, JSON.stringify(schema));
    const result = await checkEvents(dir);
    expect(result.incompatible.map(describeIncompatibility)).toEqual([
      'OrderPaid v1: channel: removed-field (no longer in the schema)',
    ]);
  });
});
