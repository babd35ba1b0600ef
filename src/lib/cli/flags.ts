import { Flags } from '@oclif/core';
import { parseDuration } from '../duration.js';
import { UsageError } from '../errors.js';

/** A duration flag (`7d`, `12h`, `30m`, ...) parsed to milliseconds; anything else is a usage error (exit 2). */
export const durationFlag = Flags.custom<number>({
  helpValue: '<duration>',
  parse: async (input) => {
    try {
      return parseDuration(input);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  },
});
