import { ConfigError } from '../errors.js';

const BOOLEAN_VALUE = /^(1|0|true|false|yes|no|y|n)$/i;

/**
 * oclif reads the variable of a boolean flag as true for 1/true/yes/y and as false for anything else,
 * so a typo (`on`, `enabled`) would silently turn the flag off. A value that is none of those is a
 * configuration error naming the variable (exit 3), for every boolean flag bound to a variable.
 */
export function checkBooleanEnv(
  flags: Record<string, { type: string; env?: string }> | undefined,
  env: NodeJS.ProcessEnv,
): void {
  for (const flag of Object.values(flags ?? {})) {
    if (flag.type !== 'boolean' || !flag.env) continue;
    const value = env[flag.env];
    if (value !== undefined && value !== '' && !BOOLEAN_VALUE.test(value))
      throw new ConfigError(
        `invalid ${flag.env}=${JSON.stringify(value)}: expected true or false (also 1/0, yes/no, y/n)`,
      );
  }
}
