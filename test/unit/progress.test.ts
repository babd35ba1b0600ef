import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../../src/lib/cli/progress.js';

/** A real pino logger whose lines are kept, to see what a non-interactive Progress logs. */
function capture() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ level: 'info' }, stream) };
}

describe('createProgress', () => {
  it('settles once: the base command failing whatever is active changes nothing after succeed()', async () => {
    const { lines, logger } = capture();
    const progress = createProgress({ interactive: false, logger, text: 'working' });
    progress.succeed('done');
    progress.fail('failed');
    progress.update('more');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((l) => l.msg)).toEqual(['done']);
  });

  it('a failure text is logged as a warning, once', async () => {
    const { lines, logger } = capture();
    const progress = createProgress({ interactive: false, logger, text: 'working' });
    progress.fail('replay failed');
    progress.fail('replay failed');
    progress.succeed('done');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toMatchObject([{ level: 40, msg: 'replay failed' }]);
    expect(lines).toHaveLength(1);
  });
});
