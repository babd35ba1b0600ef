import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDLERS, HANDLERS, parseHandlers } from '../../src/jobs/collector/handlers.js';
import { UsageError } from '../../src/lib/errors.js';

describe('collector handlers', () => {
  it('parses --handlers: known names, trimmed, duplicates once', () => {
    expect(parseHandlers('audit, metrics,audit')).toEqual(['audit', 'metrics']);
    expect(parseHandlers(HANDLERS.join(','))).toEqual([...HANDLERS]);
  });

  it('refuses an unknown or empty list, naming the flag', () => {
    expect(() => parseHandlers('audit,stock')).toThrow(UsageError);
    expect(() => parseHandlers('audit,stock')).toThrow(/--handlers: "stock"/);
    expect(() => parseHandlers(' , ')).toThrow(/--handlers/);
  });

  it('runs every handler but webhook by default (webhook needs a receiver)', () => {
    expect([...DEFAULT_HANDLERS].sort()).toEqual(HANDLERS.filter((h) => h !== 'webhook').sort());
  });
});
