import { Errors } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/lib/cli/exit-codes.js';
import { LockedError, UnavailableError, UsageError, VerifyError } from '../../src/lib/errors.js';
import { asRedisUnavailable } from '../../src/lib/redis/errors.js';

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

describe('asRedisUnavailable', () => {
  const maxRetries = Object.assign(new Error('Reached the max retries per request limit (which is 1).'), {
    name: 'MaxRetriesPerRequestError',
  });
  it.each([
    maxRetries,
    new Error('Connection is closed.'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
  ])('%s is an outage (exit 4)', (err) => {
    const mapped = asRedisUnavailable(err);
    expect(mapped).toBeInstanceOf(UnavailableError);
    expect(classify(mapped as Error).exitCode).toBe(4);
  });

  it('leaves reply errors and already classified errors alone', () => {
    const reply = new Error('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(asRedisUnavailable(reply)).toBe(reply);
    const pg = new UnavailableError('PostgreSQL', 'connect ECONNREFUSED 127.0.0.1:1');
    expect(asRedisUnavailable(pg)).toBe(pg);
  });
});
