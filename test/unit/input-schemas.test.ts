import { describe, expect, it } from 'vitest';
import { id, idText, paging, text } from '../../src/api/schemas.js';
import { parseTopicNames } from '../../src/lib/cli/flags.js';
import { loadConfig } from '../../src/lib/config/load.js';
import { prefixedTopic } from '../../src/lib/config/config.js';

describe('input schemas', () => {
  it('ids in paths and query strings are plain decimal digits', () => {
    expect(idText.parse('42')).toBe(42);
    expect(idText.parse('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    for (const loose of [
      '0x1',
      '1e0',
      '+1',
      '0b1',
      ' 1',
      '1 ',
      '01',
      '1.0',
      '-1',
      '0',
      '',
      '9007199254740992',
    ])
      expect(idText.safeParse(loose).success, loose).toBe(false);
    expect(paging.page.parse(undefined)).toBe(1);
    expect(paging.size.safeParse('101').success).toBe(false);
  });

  it('ids in bodies are JSON numbers', () => {
    expect(id.parse(7)).toBe(7);
    for (const loose of [true, [1], '1', '0x1', 1.5, 0, -1, null])
      expect(id.safeParse(loose).success, JSON.stringify(loose)).toBe(false);
  });

  it('text refuses U+0000, lone surrogates and, on one line, every control character', () => {
    const line = text({ max: 10 });
    const multi = text({ max: 20, multiline: true });
    for (const bad of ['a\u0000', '\u0001', 'a\nb', 'a\tb', '\u007f', '\ud800'])
      expect(line.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(multi.parse('a\r\n\tb 😀')).toBe('a\r\n\tb 😀');
    for (const bad of ['a\u0000', '\u0007', '\u001b[2J', '\udc00'])
      expect(multi.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(text({ max: 5, trim: true, min: 1 }).parse('  ab ')).toBe('ab');
  });
});

describe('topic flags', () => {
  it('take names without KAFKA_TOPIC_PREFIX, which is added', () => {
    const { kafka } = loadConfig({ KAFKA_TOPIC_PREFIX: 'staging-' });
    expect(parseTopicNames(' order-events, catalog-events.dlq ')).toEqual([
      'order-events',
      'catalog-events.dlq',
    ]);
    expect(prefixedTopic(kafka, 'order-events')).toBe(kafka.topics.order);
    expect(prefixedTopic(kafka, 'order-events')).toBe('staging-order-events');
    expect(() => parseTopicNames('order events')).toThrow(/not a topic name/);
    expect(() => parseTopicNames(',')).toThrow(/at least one/);
  });
});
