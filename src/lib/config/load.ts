import { ConfigError } from '../errors.js';
import { envSchema, type EnvName } from './env.js';
import { toConfig, type AppConfig } from './config.js';

/**
 * Reads the environment, lets flags override it, validates once and fails fast naming the variable.
 * Empty strings count as unset so `FOO= commerce ...` falls back to the default.
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Record<EnvName, string | number | undefined>> = {},
): AppConfig {
  const raw: Record<string, unknown> = {};
  for (const name of Object.keys(envSchema.shape)) {
    const override = overrides[name as EnvName];
    const value = override !== undefined ? override : env[name];
    if (value !== undefined && value !== '') raw[name] = value;
  }
  const parsed = envSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0]);
    throw new ConfigError(`invalid ${name}=${JSON.stringify(raw[name])}: expected ${issue.message}`);
  }
  return toConfig(parsed.data);
}
