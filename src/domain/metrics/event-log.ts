/**
 * The product metrics read model (product_metrics, product_metrics_daily) is derived from event_log:
 * these SQL fragments say which products an event touches and which events the metrics handler has
 * applied. `verify` compares against them and `rebuild` recomputes from them, so both read the model
 * the same way. Fragments for SQL, not statements.
 */

/** The product ids an envelope (jsonb `env`) touches: payload.productId, or each order item's productId. */
export const ENVELOPE_PRODUCTS = `
  SELECT (env->'payload'->>'productId')::bigint AS product_id WHERE env->'payload' ? 'productId'
  UNION ALL
  SELECT (i->>'productId')::bigint FROM jsonb_array_elements(
    CASE WHEN jsonb_typeof(env->'payload'->'items') = 'array' THEN env->'payload'->'items' ELSE '[]'::jsonb END) i`;

/**
 * Marks older than the oldest 'metrics' mark still kept were removed (by `outbox cleanup` before the
 * inbox kept an audited event's marks with its audit row, migrations/014): an event received before it
 * without a mark was handled long ago. Without any mark, everything counts as handled.
 * A one-row relation `cutoff(t)`.
 */
export const METRICS_CUTOFF = `(SELECT coalesce(min(handled_at), now()) AS t FROM event_inbox WHERE 'metrics' = ANY (handlers)) cutoff`;

/** Whether the metrics handler applied the inbox row `alias` (SQL fragment). */
export const metricsApplied = (alias: string) => `'metrics' = ANY (${alias}.handlers)`;
