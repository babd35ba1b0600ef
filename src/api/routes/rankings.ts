import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ServiceDeps } from '../../domain/deps.js';
import { getRanking } from '../../domain/rankings/service.js';
import { parseDate } from '../../lib/time/dates.js';
import { paging } from '../schemas.js';
import { parse } from '../validate.js';

const rankingQuery = z.object({
  period: z.enum(['daily', 'weekly', 'monthly']).default('daily'),
  date: z
    .string()
    .refine((d) => {
      try {
        return parseDate(d) === d;
      } catch {
        return false;
      }
    }, 'expected a date YYYY-MM-DD')
    .optional(),
  ...paging,
});

export function rankingRoutes(app: FastifyInstance, deps: ServiceDeps): void {
  app.get('/rankings', async (request) => {
    const q = parse(rankingQuery, request.query, 'query');
    return getRanking(deps, q.period, q.date, q.page, q.size);
  });
}
