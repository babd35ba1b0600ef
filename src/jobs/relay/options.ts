import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { parseDuration } from '../../lib/duration.js';
import { UsageError } from '../../lib/errors.js';
import { CDC_IDENTIFIER } from '../../lib/outbox/cdc/slot.js';
import { MIN_LEASE_MS } from './send-budget.js';

export const RELAY_MODES = ['lease', 'lock', 'cdc'] as const;
export type RelayMode = (typeof RELAY_MODES)[number];

export interface RelayOptions {
  /**
   * How claimed rows are kept ours while sent: `lease` (locked_by/locked_until written at the claim)
   * or `lock` (row locks of an open transaction, the mark its one write). See claims.ts.
   */
  mode: RelayMode;
  /** Unique per process: the owner written to locked_by. */
  relayId: string;
  batchSize: number;
  leaseMs: number;
  pollIntervalMs: number;
  maxAttempts: number;
  /** First retry delay of a rejected event; doubles per attempt up to maxBackoffMs. */
  retryBackoffMs: number;
  maxBackoffMs: number;
  /** CDC mode (cdc/): the logical replication slot, the publication, how often the heartbeat is sent. */
  cdc: { slot: string; publication: string; heartbeatMs: number };
  /**
   * Whether messages also carry the headers from before CloudEvents (event-id, event-type,
   * aggregate-type, aggregate-version): on during the change; each one costs the relay CPU per message
   * (docs/wire-format.md).
   */
  legacyHeaders: boolean;
}

export const RELAY_DEFAULTS = {
  mode: 'lease',
  batchSize: 500,
  lease: '30s',
  pollInterval: '1s',
  maxAttempts: 10,
  retryBackoff: '1s',
  maxBackoff: '5m',
  slot: 'commerce_outbox_relay',
  publication: 'commerce_outbox',
  heartbeat: '10s',
  legacyHeaders: true,
} as const;

export function newRelayId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** Validates the relay's flags; any bad value is a UsageError (exit 2) before anything runs. */
export function parseRelayOptions(raw: {
  batchSize?: number;
  lease?: string;
  pollInterval?: string;
  maxAttempts?: number;
  retryBackoff?: string;
  relayId?: string;
  mode?: string;
  slot?: string;
  publication?: string;
  heartbeat?: string;
  legacyHeaders?: boolean;
}): RelayOptions {
  const mode = raw.mode ?? RELAY_DEFAULTS.mode;
  if (!(RELAY_MODES as readonly string[]).includes(mode))
    throw new UsageError(`--mode must be one of ${RELAY_MODES.join(', ')}, got ${mode}`);
  const batchSize = raw.batchSize ?? RELAY_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
    throw new UsageError(`--batch-size must be an integer from 1 to 10000, got ${batchSize}`);
  const maxAttempts = raw.maxAttempts ?? RELAY_DEFAULTS.maxAttempts;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 1_000)
    throw new UsageError(`--max-attempts must be an integer from 1 to 1000, got ${maxAttempts}`);
  const leaseMs = duration('--lease', raw.lease ?? RELAY_DEFAULTS.lease);
  if (leaseMs < MIN_LEASE_MS)
    throw new UsageError(
      `--lease must be at least ${MIN_LEASE_MS / 1000}s: one Kafka send is bounded to three quarters of the lease, ` +
        `and a shorter lease leaves too little time for a request, got ${raw.lease}`,
    );
  return {
    mode: mode as RelayMode,
    relayId: raw.relayId ?? newRelayId(),
    batchSize,
    leaseMs,
    pollIntervalMs: duration('--poll-interval', raw.pollInterval ?? RELAY_DEFAULTS.pollInterval),
    maxAttempts,
    retryBackoffMs: duration('--retry-backoff', raw.retryBackoff ?? RELAY_DEFAULTS.retryBackoff),
    maxBackoffMs: parseDuration(RELAY_DEFAULTS.maxBackoff),
    cdc: {
      slot: identifier('--slot', raw.slot ?? RELAY_DEFAULTS.slot),
      publication: identifier('--publication', raw.publication ?? RELAY_DEFAULTS.publication),
      heartbeatMs: duration('--heartbeat', raw.heartbeat ?? RELAY_DEFAULTS.heartbeat),
    },
    legacyHeaders: raw.legacyHeaders ?? RELAY_DEFAULTS.legacyHeaders,
  };
}

function identifier(flag: string, name: string): string {
  if (!CDC_IDENTIFIER.test(name))
    throw new UsageError(
      `${flag} must be a lower-case identifier (a-z, 0-9, _; at most 63 characters), got ${name}`,
    );
  return name;
}

function duration(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}
