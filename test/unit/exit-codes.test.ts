import { Errors } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/lib/cli/exit-codes.js';
import {
  InterruptedError,
  LockedError,
  UnavailableError,
  UsageError,
  VerifyError,
} from '../../src/lib/errors.js';
import {
  KafkaJSConnectionError,
  KafkaJSNumberOfRetriesExceeded,
  KafkaJSProtocolError,
} from '../../src/lib/kafka/kafkajs.js';
import { unavailableService } from '../../src/lib/error-kind.js';

describe('classify (error -> exit code)', () => {
  it.each([
    [new UsageError('--top must be positive'), 'USAGE', 2],
    [new UnavailableError('Redis', 'down'), 'UNAVAILABLE', 4],
    [new LockedError('held'), 'LOCKED', 5],
    [new VerifyError('differs'), 'VERIFY', 6],
  ])('%s keeps its own code', (err, code, exitCode) => {
    expect(classify(err)).toEqual({ code, exitCode, message: err.message });
  });

  it("turns oclif's parse errors into one-line usage errors", () => {
    const err = new Errors.CLIError(
      'The following error occurred:\n  Expected an integer but received: x\nSee more help with --help',
    );
    expect(classify(err)).toEqual({
      code: 'USAGE',
      exitCode: 2,
      message: 'Expected an integer but received: x',
    });
  });

  it("puts a custom flag's wrapped error on one line", () => {
    const err = new UsageError('"soon" is not a duration');
    err.message = `Parsing --duration \n\t${err.message}\nSee more help with --help`;
    expect(classify(err)).toMatchObject({
      exitCode: 2,
      message: 'Parsing --duration; "soon" is not a duration',
    });
  });

  it('anything else is an unexpected failure (exit 1)', () => {
    expect(classify(new TypeError('x is undefined'))).toEqual({
      code: 'FAILURE',
      exitCode: 1,
      message: 'x is undefined',
    });
  });
});

describe('an unavailable service -> exit 4 naming it', () => {
  const maxRetries = Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
    name: 'MaxRetriesPerRequestError',
  });
  it.each([
    [maxRetries, 'Redis'],
    [new Error('Connection is closed.'), 'Redis'],
    [new Error('Command timed out'), 'Redis'],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'PostgreSQL'],
    [
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      'PostgreSQL',
    ],
    [new Error('query failed', { cause: new Error('Connection terminated unexpectedly') }), 'PostgreSQL'],
  ])('%s is an outage (exit 4)', (err, service) => {
    expect(unavailableService(err)).toBe(service);
    const classified = classify(err);
    expect(classified).toMatchObject({ code: 'UNAVAILABLE', exitCode: 4 });
    expect(classified.message).toMatch(new RegExp(`^${service} is unavailable: `));
  });

  it("names Kafka for kafkajs' errors, whatever their message or depth, and the brokers when known", () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:1');
    const retried = new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 1 });
    expect(unavailableService(retried)).toBe('Kafka');
    expect(unavailableService(new Error('could not start', { cause: retried }))).toBe('Kafka');
    // As kafkajs builds them from its protocol error table (createErrorFromCode), flag included.
    const leader = new KafkaJSProtocolError({
      message: 'no leader',
      type: 'LEADER_NOT_AVAILABLE',
      code: 5,
      retriable: true,
    } as never);
    expect(unavailableService(leader)).toBe('Kafka');
    expect(classify(retried, ['127.0.0.1:1', '127.0.0.1:2'])).toEqual({
      code: 'UNAVAILABLE',
      exitCode: 4,
      message: 'Kafka is unavailable: cannot reach 127.0.0.1:1,127.0.0.1:2',
    });
  });

  it('leaves reply errors, rejected messages, input errors and already classified errors alone', () => {
    const reply = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(unavailableService(reply)).toBeUndefined();
    expect(classify(reply).exitCode).toBe(1);
    const tooLarge = new KafkaJSProtocolError({
      message: 'too large',
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
    } as never);
    expect(unavailableService(tooLarge)).toBeUndefined();
    const unique = Object.assign(new Error('duplicate key value'), { code: '23505' });
    expect(unavailableService(unique)).toBeUndefined();
    const pg = new UnavailableError('PostgreSQL', 'connect ECONNREFUSED 127.0.0.1:1');
    expect(unavailableService(pg)).toBe('PostgreSQL');
    expect(classify(pg).message).toBe(pg.message);
    const aborted = new AbortController();
    aborted.abort('SIGTERM');
    const interrupted = new InterruptedError(aborted.signal, 'nothing was verified', 'demo');
    expect(unavailableService(new Error('x', { cause: interrupted }))).toBeUndefined();
    expect(classify(interrupted)).toEqual({
      code: 'INTERRUPTED',
      exitCode: 1,
      message: 'demo interrupted (SIGTERM); nothing was verified',
    });
  });
});
