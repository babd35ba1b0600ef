import { z } from 'zod';

/**
 * Every environment variable the tool reads, with its default, its validation and its meaning
 * (`.describe()`). docs/reference/environment.md is generated from this schema and ENV_READERS below
 * (`npm run docs`; test/unit/docs-generated.test.ts fails when it is stale).
 */
const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const weight = z.coerce.number().finite().min(0);

export const envSchema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/commerce')
    .describe('PostgreSQL connection URL'),
  DATABASE_POOL_MAX: positiveInt.max(200).default(10).describe('PostgreSQL connections per process'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'a redis:// URL')
    .default('redis://127.0.0.1:6379')
    .describe('Redis URL'),
  REDIS_KEY_PREFIX: z.string().default('commerce:').describe('prefix of every Redis key the tool writes'),
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'a comma-separated list of host:port')
    .default('127.0.0.1:9092')
    .describe('comma-separated Kafka brokers, `host:port`'),
  KAFKA_CLIENT_ID: z.string().min(1).default('commerce').describe('Kafka client id'),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, . _ -')
    .default('')
    .describe('prefix of every topic name, e.g. `staging-` (flags name topics without it)'),
  KAFKA_PARTITIONS: positiveInt
    .max(1000)
    .default(3)
    .describe('partitions of the event topics `kafka topics` creates'),
  KAFKA_REPLICATION_FACTOR: positiveInt
    .max(10)
    .default(1)
    .describe('replication factor of the topics `kafka topics` creates'),
  KAFKA_MIN_INSYNC_REPLICAS: positiveInt
    .max(10)
    .optional()
    .describe(
      '`min.insync.replicas` of created topics (`kafka topics --min-insync-replicas`), at most `KAFKA_REPLICATION_FACTOR`; unset: the replication factor minus one, at least 1',
    ),
  KAFKA_GROUP_ID: z
    .string()
    .min(1)
    .default('commerce-collector')
    .describe(
      "the collector's consumer group (`--group`); offsets only, idempotency marks belong to handlers",
    ),
  SHUTDOWN_TIMEOUT: z
    .string()
    .default('25s')
    .describe(
      "after the first SIGTERM/SIGINT a command exits by then, whatever a dependency does (if it had not finished: its loops' stop is forced, up to 2 s more to give back what they hold, then exit 1); keep it under the pod's grace period",
    ),
  LOG_LEVEL: z
    .enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])
    .default('info')
    .describe('log level: `trace`, `debug`, `info`, `warn`, `error`, `fatal`, `silent`'),
  API_HOST: z.string().min(1).default('127.0.0.1').describe('address `api serve` listens on'),
  API_PORT: port.default(8080).describe('port `api serve` listens on'),
  ADMIN_TOKEN: z
    .string()
    .default('')
    .describe('bearer token of the admin routes; empty: admin routes refuse everyone'),
  CACHE_TTL_SECONDS: positiveInt.default(60).describe('TTL of cached product reads in Redis'),
  API_LOCAL_CACHE_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(60_000)
    .default(1_000)
    .describe(
      'how long `api serve` keeps a product detail (and its daily rank) in process memory in front of Redis; changes it did not make itself show within this time; `0`: off',
    ),
  METRICS_PORT: port
    .optional()
    .describe(
      "port of the Prometheus `/metrics` endpoint of `relay run` and `collector run` (unset: off), and `metrics serve`'s port (unset: 9465)",
    ),
  TIMEZONE: z
    .string()
    .refine(isTimeZone, 'an IANA time zone such as UTC or Asia/Seoul')
    .default('UTC')
    .describe('IANA time zone of daily metrics, daily rankings and aggregation periods'),
  RANKING_WEIGHT_VIEW: weight.default(0.1).describe('ranking score weight of a view'),
  RANKING_WEIGHT_LIKE: weight.default(0.2).describe('ranking score weight of a like'),
  RANKING_WEIGHT_ORDER: weight.default(0.7).describe('ranking score weight of an order'),
  EVENT_HANDLED_RETENTION: z
    .string()
    .default('30d')
    .describe('how long idempotency marks are kept (longer than any redelivery window)'),
  WEBHOOK_URL: z
    .string()
    .regex(/^https?:\/\/[^\s/?#]+[^\s]*$/, 'an http:// or https:// URL')
    .optional()
    .describe(
      'the `http://` or `https://` URL the `webhook` handler POSTs events to; required by that handler',
    ),
  WEBHOOK_SECRET: z
    .string()
    .min(16, 'a secret of at least 16 characters')
    .optional()
    .describe("key of the webhooks' signature, at least 16 characters; required by the `webhook` handler"),
  GATEWAY_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// URL')
    .default('http://127.0.0.1:8090')
    .describe('base URL of the payment gateway'),
  GATEWAY_SECRET: z
    .string()
    .default('')
    .describe(
      'HMAC secret of gateway callbacks, shared by the gateway and the API; empty: `gateway serve` refuses to start and no callback verifies',
    ),
  GATEWAY_TIMEOUT: z
    .string()
    .default('1s')
    .describe('timeout of one gateway request attempt (`500ms`, `2s`)'),
  GATEWAY_BREAKER_HALF_OPEN: z
    .string()
    .default('10s')
    .describe(
      "how long the gateway client's open circuit breaker refuses calls before it lets one test call through",
    ),
  ORDER_PAYMENT_TTL: z
    .string()
    .default('30m')
    .describe(
      'how long an order may stay unpaid (at least `1s`): then `orders expire` gives its stock back (`EXPIRED`) and paying it is 409 `ORDER_EXPIRED`; read at order creation (`expiresAt`)',
    ),
  PAYMENT_CALLBACK_URL: z
    .string()
    .regex(/^https?:\/\/[^\s]+$/, 'an http:// URL')
    .optional()
    .describe(
      "the public URL of the API's callback route, sent to the gateway with each payment; unset: derived from the address the API listens on (`http://<host>:<port>/api/v1/payments/callback`, `127.0.0.1` for `0.0.0.0`)",
    ),
});

export type Env = z.infer<typeof envSchema>;
export type EnvName = keyof Env;

/** Every command: each validates the whole environment, though it reads only what it uses. */
export const EVERY_COMMAND = '*';
const POSTGRES = [
  'aggregate',
  'aggregate history',
  'api serve',
  'collector run',
  'db migrate',
  'db status',
  'demo',
  'dev',
  'doctor',
  'metrics serve',
  'orders expire',
  'outbox cleanup',
  'outbox retry',
  'outbox status',
  'payments recover',
  'payments status',
  'ranking carry-over',
  'rebuild',
  'relay run',
  'verify',
];
const REDIS = [
  'api serve',
  'collector run',
  'demo',
  'dev',
  'doctor',
  'orders expire',
  'ranking carry-over',
  'rebuild',
  'verify',
];
const KAFKA = [
  'collector lag',
  'collector run',
  'demo',
  'dev',
  'dlq list',
  'dlq replay',
  'doctor',
  'events tail',
  'kafka topics',
  'metrics serve',
  'relay run',
  'verify',
];
const TOPIC_SETTINGS = ['demo', 'doctor', 'kafka topics'];
const API = ['api serve', 'demo', 'dev'];
const GATEWAY_CLIENT = [...API, 'payments recover'];
const RANKING = ['aggregate', 'collector run', 'demo', 'dev', 'rebuild', 'verify'];

/**
 * Which commands read each variable (command ids as typed, EVERY_COMMAND for all): the "Read by"
 * column of docs/reference/environment.md. A variable added to envSchema without an entry here fails
 * test/unit/docs-generated.test.ts, as does a command id that does not exist.
 */
export const ENV_READERS: Readonly<Record<EnvName, readonly string[]>> = {
  DATABASE_URL: POSTGRES,
  DATABASE_POOL_MAX: POSTGRES,
  REDIS_URL: REDIS,
  REDIS_KEY_PREFIX: REDIS,
  KAFKA_BROKERS: KAFKA,
  KAFKA_CLIENT_ID: KAFKA,
  // Outbox rows name their topic: the commands that write events read it as well.
  KAFKA_TOPIC_PREFIX: [...KAFKA, 'api serve', 'orders expire', 'payments recover'],
  KAFKA_PARTITIONS: TOPIC_SETTINGS,
  KAFKA_REPLICATION_FACTOR: TOPIC_SETTINGS,
  KAFKA_MIN_INSYNC_REPLICAS: TOPIC_SETTINGS,
  KAFKA_GROUP_ID: [
    'collector lag',
    'collector run',
    'demo',
    'dev',
    'dlq list',
    'dlq replay',
    'doctor',
    'metrics serve',
    'verify',
  ],
  SHUTDOWN_TIMEOUT: [EVERY_COMMAND],
  LOG_LEVEL: [EVERY_COMMAND],
  // The gateway callback URL, when PAYMENT_CALLBACK_URL is unset, is derived from the API's address.
  API_HOST: GATEWAY_CLIENT,
  API_PORT: GATEWAY_CLIENT,
  ADMIN_TOKEN: API,
  CACHE_TTL_SECONDS: API,
  API_LOCAL_CACHE_MS: API,
  METRICS_PORT: ['collector run', 'metrics serve', 'relay run'],
  TIMEZONE: [...RANKING, 'api serve', 'ranking carry-over'],
  RANKING_WEIGHT_VIEW: RANKING,
  RANKING_WEIGHT_LIKE: RANKING,
  RANKING_WEIGHT_ORDER: RANKING,
  EVENT_HANDLED_RETENTION: ['outbox cleanup'],
  WEBHOOK_URL: ['collector run'],
  WEBHOOK_SECRET: ['collector run'],
  GATEWAY_URL: GATEWAY_CLIENT,
  GATEWAY_SECRET: [...API, 'gateway serve'],
  GATEWAY_TIMEOUT: GATEWAY_CLIENT,
  GATEWAY_BREAKER_HALF_OPEN: GATEWAY_CLIENT,
  ORDER_PAYMENT_TTL: API,
  PAYMENT_CALLBACK_URL: GATEWAY_CLIENT,
};

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
