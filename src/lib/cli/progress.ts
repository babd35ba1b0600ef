import ora, { type Ora } from 'ora';

/** A spinner on stderr for long work; silent under --json or when stderr is not a terminal. */
export interface Progress {
  update(text: string): void;
  succeed(text: string): void;
  fail(text: string): void;
}

export function startProgress(text: string, enabled: boolean): Progress {
  const spinner: Ora | undefined =
    enabled && process.stderr.isTTY ? ora({ text, stream: process.stderr }).start() : undefined;
  return {
    update: (t) => {
      if (spinner) spinner.text = t;
    },
    succeed: (t) => spinner?.succeed(t),
    fail: (t) => spinner?.fail(t),
  };
}
