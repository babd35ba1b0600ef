import { z } from 'zod';

/**
 * Every environment variable the tool reads, with its default and its validation.
 * README's table of variables is written from this list; keep them in step.
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const weight = z.coerce.number().finite().min(0);

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/commerce'),
  DATABASE_POOL_MAX: positiveInt.max(200).default(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('commerce:'),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'a comma-separated list of host:port')
    .default('127.0.0.1:9092'),
  KAFKA_CLIENT_ID: z.string().min(1).default('commerce'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ -')
    .default(''),
  KAFKA_PARTITIONS: positiveInt.max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: positiveInt.max(10).default(1),
  // Unset: the replication factor minus one, at least 1 (toConfig); at most the replication factor.
  KAFKA_MIN_INSYNC_REPLICAS: positiveInt.max(10).optional(),
  KAFKA_GROUP_ID: z.string().min(1).default('commerce-collector'),
  // How long SIGTERM/SIGINT may take before the process exits anyway (below Kubernetes' 30 s grace).
  SHUTDOWN_TIMEOUT: z.string().default('25s'),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  ADMIN_TOKEN: z.string().default(''),
  CACHE_TTL_SECONDS: positiveInt.default(60),
  API_LOCAL_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  METRICS_PORT: port.optional(),
  TIMEZONE: z.string().refine(isTimeZone, 'an IANA time zone such as UTC or Asia/Seoul').default('UTC'),
  RANKING_WEIGHT_VIEW: weight.default(0.1),
  RANKING_WEIGHT_LIKE: weight.default(0.2),
  RANKING_WEIGHT_ORDER: weight.default(0.7),
  EVENT_HANDLED_RETENTION: z.string().default('30d'),
  // The webhook handler's receiver and signing key; only that handler needs them.
  WEBHOOK_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/, 'an http:// or https:// URL')
    .optional(),
  WEBHOOK_SECRET: z.string().min(16, 'a secret of at least 16 characters').optional(),
  GATEWAY_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// URL')
    .default('http://127.0.0.1:8090'),
  GATEWAY_SECRET: z.string().default(''),
  GATEWAY_TIMEOUT: z.string().default('1s'),
  GATEWAY_BREAKER_HALF_OPEN: z.string().default('10s'),
  // How long an order may stay unpaid: then `orders expire` gives its stock back (EXPIRED).
  ORDER_PAYMENT_TTL: z.string().default('30m'),
  // Loyalty points per paid order: this fraction of the amount (minor units), rounded down. At most 4
  // decimals (a whole number of basis points, so every process computes the same integer).
  POINTS_RATE: z
    .string()
    .regex(/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/, 'a fraction from 0 to 1 with at most 4 decimals, e.g. 0.01')
    .default('0.01'),
  PAYMENT_CALLBACK_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// URL')
    .optional(),
});

export type Env = z.infer<typeof envSchema>;
export type EnvName = keyof Env;

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
