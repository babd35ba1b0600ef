import type { z } from 'zod';
import { HttpError } from './errors.js';
import { idParams, isIdText, UNPROCESSABLE_PARAM } from './schemas.js';

/**
 * Validates one part of a request (body, query, params, a header) with a zod schema. The first issue
 * becomes a 400 naming the field (`items.0.quantity: ...`), so clients can tell what to fix; text that
 * is well-formed but cannot be stored (control characters: schemas.ts) is a 422 naming the field.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, part: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.map(String).join('.') : part;
  const message = `${field}: ${issue.message}`;
  if (issue.code === 'custom' && issue.params?.[UNPROCESSABLE_PARAM] === true)
    throw new HttpError(422, 'UNSUPPORTED_CHARACTER', message);
  throw new HttpError(400, 'VALIDATION_FAILED', message);
}

/**
 * The `:id` of a route, by idParams's rule: a valid id is checked with one regex (no zod parse on the
 * hot path of a product read); anything else goes through parse for the same 400 as before.
 */
export function parseIdParam(params: unknown): number {
  const text = (params as { id?: unknown }).id;
  if (typeof text === 'string' && isIdText(text)) return Number(text);
  return parse(idParams, params, 'id').id;
}
