import { describe, expect, it } from 'vitest';
import { checkBooleanEnv } from '../../src/lib/cli/boolean-env.js';
import { ConfigError } from '../../src/lib/errors.js';

const flags = {
  'legacy-headers': { type: 'boolean', env: 'RELAY_LEGACY_HEADERS' },
  once: { type: 'boolean' },
  lease: { type: 'option', env: 'RELAY_LEASE' },
};

describe('checkBooleanEnv', () => {
  it('accepts what oclif reads as true or false, and an unset or empty variable', () => {
    for (const value of ['1', '0', 'true', 'FALSE', 'yes', 'No', 'y', 'n', '', undefined])
      expect(() => checkBooleanEnv(flags, { RELAY_LEGACY_HEADERS: value })).not.toThrow();
  });

  it('refuses anything else for a boolean flag, naming the variable (exit 3); other flags are not its business', () => {
    const err = (() => {
      try {
        checkBooleanEnv(flags, { RELAY_LEGACY_HEADERS: 'on' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/invalid RELAY_LEGACY_HEADERS="on": expected true or false/);
    expect(() => checkBooleanEnv(flags, { RELAY_LEASE: 'whenever' })).not.toThrow();
  });
});
