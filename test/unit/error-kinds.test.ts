import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ReceiverDownError } from '../../src/jobs/collector/webhook/classify.js';
import { classifyError, errorKind } from '../../src/lib/error-kind.js';
import { InterruptedError, UnavailableError } from '../../src/lib/errors.js';
import { fetchFailure, statusKind } from '../../src/lib/fetch-errors.js';
import {
  KafkaJSConnectionError,
  KafkaJSNonRetriableError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from '../../src/lib/kafka/kafkajs.js';
import { GatewayAttemptError } from '../../src/lib/payments/errors.js';
import { retry } from '../../src/lib/retry.js';

// Real error objects come from the libraries in test/integration/error-kinds.test.ts; these cover the
// table's rows that a live service cannot be made to produce on demand.
const pg = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code, severity: 'ERROR' });
// As kafkajs builds them from its protocol error table (createErrorFromCode), flag included.
const protocol = (type: string, retriable: boolean) =>
  new KafkaJSProtocolError({ type, code: 1, retriable, message: type } as never);

describe('classifyError', () => {
  it.each([
    ['40001', 'conflict'],
    ['40P01', 'conflict'],
    ['55P03', 'conflict'],
    ['23505', 'rejected'],
    ['22021', 'rejected'],
    ['08006', 'unavailable'],
    ['53300', 'unavailable'],
    ['57P01', 'unavailable'],
    ['57P03', 'unavailable'],
    ['3D000', 'unavailable'],
    ['42P01', 'bug'],
    ['XX000', 'bug'],
  ])('PostgreSQL %s is %s', (code, kind) => {
    expect(classifyError(new Error('wrapped', { cause: pg(code) }))).toEqual({ kind, service: 'PostgreSQL' });
  });

  it('reads Redis reply codes: a restarting or busy server is an outage, WRONGTYPE is a bug', () => {
    expect(classifyError(new ReplyError('LOADING Redis is loading the dataset in memory'))).toEqual({
      kind: 'unavailable',
      service: 'Redis',
    });
    expect(errorKind(new ReplyError('BUSY Redis is busy running a script'))).toBe('unavailable');
    expect(classifyError(new ReplyError('WRONGTYPE Operation against a key'))).toEqual({
      kind: 'bug',
      service: 'Redis',
    });
  });

  it("reads kafkajs' retriable flag on broker answers, except those about the message", () => {
    for (const type of [
      'GROUP_LOAD_IN_PROGRESS',
      'GROUP_COORDINATOR_NOT_AVAILABLE',
      'NOT_COORDINATOR_FOR_GROUP',
    ])
      expect(classifyError(protocol(type, true))).toEqual({ kind: 'unavailable', service: 'Kafka' });
    expect(errorKind(protocol('BROKER_NOT_AVAILABLE', false))).toBe('unavailable');
    expect(errorKind(protocol('CORRUPT_MESSAGE', true))).toBe('rejected');
    expect(errorKind(protocol('UNKNOWN_TOPIC_OR_PARTITION', true))).toBe('rejected');
    expect(errorKind(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER', false))).toBe('rejected');
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    // A socket error under kafkajs is the broker's, not PostgreSQL's.
    // What kafkajs' retrier throws (retry/index.js); its typings take one argument only.
    const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, o: object) => Error;
    const wrapped = new NonRetriable(refused, { cause: refused });
    expect(classifyError(wrapped)).toEqual({ kind: 'unavailable', service: 'Kafka' });
    const retried = new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('Connection timeout'), {
      retryCount: 0,
      retryTime: 1,
    });
    expect(classifyError(retried)).toEqual({ kind: 'unavailable', service: 'Kafka' });
  });

  it('takes the kind our own errors carry, and calls anything unknown a bug', () => {
    expect(classifyError(new ReceiverDownError('HTTP 503', 60_000))).toEqual({
      kind: 'unavailable',
      service: 'webhook receiver',
    });
    expect(classifyError(new GatewayAttemptError('rejected', 'gateway answered 400', 400))).toEqual({
      kind: 'rejected',
      service: 'gateway',
    });
    expect(errorKind(new GatewayAttemptError('timeout', 'no answer'))).toBe('unavailable');
    expect(classifyError(new UnavailableError('Redis', 'down'))).toEqual({
      kind: 'unavailable',
      service: 'Redis',
    });
    const aborted = new AbortController();
    aborted.abort('SIGTERM');
    expect(errorKind(new InterruptedError(aborted.signal, 'nothing done'))).toBe('bug');
    expect(classifyError(new TypeError('x is undefined'))).toEqual({ kind: 'bug' });
    expect(classifyError('text')).toEqual({ kind: 'bug' });
  });

  it('tells HTTP answers and fetch failures apart', () => {
    expect([200, 204, 408, 429, 500, 503, 301, 400, 404, 409].map(statusKind)).toEqual([
      'ok',
      'ok',
      'unavailable',
      'unavailable',
      'unavailable',
      'unavailable',
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(fetchFailure(new DOMException('timed out', 'TimeoutError'))).toEqual({
      kind: 'unavailable',
      reason: 'timeout',
    });
    expect(fetchFailure(new DOMException('stopped', 'AbortError'))).toBeUndefined();
  });
});

describe('retry', () => {
  const backoff = { baseMs: 1, maxMs: 2 };

  it('retries what retryIf accepts, up to the attempts, and throws the last error', async () => {
    const seen: number[] = [];
    const fail = (attempt: number) => {
      seen.push(attempt);
      return Promise.reject(new Error(`failure ${attempt}`));
    };
    await expect(retry(fail, { attempts: 3, backoff, retryIf: () => true })).rejects.toThrow('failure 3');
    expect(seen).toEqual([1, 2, 3]);
    seen.length = 0;
    await expect(retry(fail, { attempts: 3, backoff, retryIf: () => false })).rejects.toThrow('failure 1');
    expect(seen).toEqual([1]);
    const late = (attempt: number) =>
      attempt < 2 ? Promise.reject(new Error('once')) : Promise.resolve('ok');
    await expect(retry(late, { attempts: 3, backoff, retryIf: () => true })).resolves.toBe('ok');
  });

  it('ends a wait at once when the signal aborts, and never waits past the deadline', async () => {
    const stop = new AbortController();
    const started = performance.now();
    const waiting = retry(() => Promise.reject(new Error('down')), {
      attempts: Infinity,
      backoff: { baseMs: 60_000, maxMs: 60_000 },
      retryIf: () => true,
      signal: stop.signal,
      onRetry: () => stop.abort(),
    });
    await expect(waiting).rejects.toThrow('down');
    expect(performance.now() - started).toBeLessThan(1_000);
    let attempts = 0;
    const deadline = Date.now() + 100;
    const bounded = retry(() => Promise.reject(new Error(`attempt ${++attempts}`)), {
      attempts: Infinity,
      backoff: { baseMs: 60_000, maxMs: 60_000, jitter: 0 },
      retryIf: () => true,
      deadline,
    });
    await expect(bounded).rejects.toThrow(/^attempt \d$/);
    expect(attempts).toBeGreaterThanOrEqual(2); // one at once, the next at the deadline (timer rounding: maybe one more)
    expect(attempts).toBeLessThanOrEqual(3);
    expect(Date.now()).toBeGreaterThanOrEqual(deadline);
    expect(Date.now() - deadline).toBeLessThan(1_000);
  });
});
