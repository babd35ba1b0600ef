import { z } from 'zod';

/** Request schemas shared by several routes. Ids are positive integers that fit a JS number. */
export const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
export const idParams = z.object({ id });
export const money = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const paging = {
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  size: z.coerce.number().int().min(1).max(100).default(20),
};
