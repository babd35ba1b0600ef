import { z } from 'zod';

/**
 * Request schemas shared by every route: one rule for ids and counts, one for free text, so no route
 * can be looser than another.
 */

/** Marks an issue as a 422 (the value is well-formed JSON but unusable) instead of validation's 400. */
export const UNPROCESSABLE_PARAM = 'unprocessable';

// Ids and counts in a path or query string: plain decimal digits, no sign, no leading zero, no
// whitespace, no `0x`/`0b`/exponent. Number() would read `0x1`, `1e0`, `+1` and ` 1` as 1: one product
// under many names (and a counted view for each).
const DECIMAL = /^[1-9][0-9]{0,15}$/;

/** A positive integer written in a path or query string, e.g. `/products/12`, `?page=2`. */
function decimal(max: number) {
  return z
    .string()
    .regex(DECIMAL, 'expected a positive decimal integer')
    .transform(Number)
    .refine((n) => n <= max, `expected at most ${max}`);
}

/** A positive integer in a JSON body: a JSON number, never a string, boolean or array. */
function integer(max: number) {
  return z.number().int().positive().max(max);
}

/** Ids are positive integers that fit a JS number (the columns are bigint). */
export const id = integer(Number.MAX_SAFE_INTEGER);
export const idText = decimal(Number.MAX_SAFE_INTEGER);
export const idParams = z.object({ id: idText });

/** idText's rule as a plain test, for the hot path (validate.ts parseIdParam); zod names the problem. */
export function isIdText(text: string): boolean {
  return DECIMAL.test(text) && Number(text) <= Number.MAX_SAFE_INTEGER;
}
export const money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const paging = {
  page: decimal(100_000).default(1),
  size: decimal(100).default(20),
};

/*
 * Free text. U+0000 cannot be stored by PostgreSQL (text refuses it, 22021; jsonb too, 22P05), so it is
 * refused here, naming the field. The other C0 controls and DEL would be stored but have no place in
 * names or reasons: they are invisible, reorder or erase what terminals, logs and CSV exports show, and
 * make two different names look alike; so single-line text refuses all of them, and multi-line text
 * (descriptions) allows only tab, line feed and carriage return. Unpaired UTF-16 surrogates are refused
 * too: they cannot be encoded as UTF-8 and would be stored silently replaced by U+FFFD.
 */
// eslint-disable-next-line no-control-regex
const SINGLE_LINE_CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const MULTI_LINE_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;
// With the u flag a surrogate pair is one code point, so this matches unpaired halves only.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

export function text(options: { min?: number; max: number; multiline?: boolean; trim?: boolean }) {
  const control = options.multiline ? MULTI_LINE_CONTROL : SINGLE_LINE_CONTROL;
  const allowed = options.multiline ? ' (tab and line breaks are allowed)' : '';
  let base = z.string();
  if (options.trim) base = base.trim();
  return base
    .min(options.min ?? 0)
    .max(options.max)
    .refine((s) => !control.test(s), {
      message: `control characters are not allowed${allowed}`,
      params: { [UNPROCESSABLE_PARAM]: true },
    })
    .refine((s) => !LONE_SURROGATE.test(s), {
      message: 'not well-formed Unicode (unpaired surrogate)',
      params: { [UNPROCESSABLE_PARAM]: true },
    });
}
