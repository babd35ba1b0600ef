import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The built CLI (npm test builds it first), run exactly as operators run it. */
export const CLI = fileURLToPath(new URL('../../bin/run.js', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON when the command ran with --json. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export function runCli(args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = startCli(args, env);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`commerce ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      let json: unknown;
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout);
        } catch {
          json = undefined;
        }
      }
      resolve({ code, stdout, stderr, json });
    });
  });
}

/** Starts a long-running command (api serve, relay run, ...); the caller stops it. */
export function startCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...env, NODE_NO_WARNINGS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const CRASH_POINTS = fileURLToPath(new URL('./crash-points.mjs', import.meta.url));

/**
 * The environment that makes a CLI SIGKILL itself where the program publishes on the diagnostics
 * channel `point` (crash-points.mjs, preloaded): crash points live in the tests, not in the program.
 */
export function crashAt(point: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${CRASH_POINTS}`, CRASH_POINT: point };
}

/** Sends a signal and waits for the exit code. */
export function stopCli(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
  timeoutMs = 30_000,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => reject(new Error('process did not exit after ' + signal)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

/** Waits until the child's output matches, e.g. a "listening" log line. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output:\n${seen}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      seen += d.toString();
      const match = pattern.exec(seen);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolve(match[0]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
}

/** A long-running command a test keeps, with the tail of its output for a failure message. */
export interface KeptProcess {
  name: string;
  child: ChildProcess;
  /** Its PID at start: a restarted process would have another. */
  pid: number;
  output: string[];
}

/** Starts a long-running command and waits for its ready line; keeps reading its output. */
export async function startKept(
  name: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 45_000,
): Promise<{ proc: KeptProcess; line: string }> {
  const child = startCli(args, env);
  const output: string[] = [];
  // Keep reading (a full pipe would block the child's logging) and keep the tail for a failure message.
  const keep = (d: Buffer) => {
    output.push(d.toString());
    if (output.length > 400) output.splice(0, 100);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const line = await waitForOutput(child, ready, timeoutMs);
  return { proc: { name, child, pid: child.pid!, output }, line };
}

/** `metrics serve` on a free port of 127.0.0.1, once it listens: the process and its base URL. */
export async function startExporter(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = startCli(['metrics', 'serve', '--port', '0', '--host', '127.0.0.1'], {
    ...env,
    LOG_LEVEL: 'info',
  });
  const line = await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:\d+/, 45_000);
  return { child, url: line.replace('listening on ', '') };
}
