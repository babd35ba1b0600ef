import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../test/support/ports.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Runs a TypeScript file under tsx in a child process (same loader as this process). */
export function spawnTs(file: string, args: string[], env: Record<string, string>): ChildProcess {
  return spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL(file, import.meta.url)), ...args],
    {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

/** The first JSON line the child prints on stdout. */
export function firstJsonLine<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const line = buffer.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as T);
    });
    child.once('exit', (code) => reject(new Error(`child exited (${code}) before printing its result`)));
  });
}

/** Runs a child to completion and returns its last JSON line. */
export async function runTs<T>(file: string, args: string[], env: Record<string, string>): Promise<T> {
  const child = spawnTs(file, args, env);
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (code !== 0 || !line) throw new Error(`${file} ${args.join(' ')} exited ${code}: ${out.slice(-500)}`);
  return JSON.parse(line) as T;
}

/** Stops a child with SIGTERM and waits for it. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * Runs the built CLI (`bin/run.js`, as deployed: `npm run bench` builds it first) in a child process,
 * stdout ignored, the last 4 KiB of stderr kept for the error when it dies. `nodeArgs` go to node
 * itself (e.g. `--cpu-prof`).
 */
export function spawnCli(
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ChildProcess & { stderrTail: () => string } {
  const child = spawn(process.execPath, [...nodeArgs, 'bin/run.js', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-4096)));
  return Object.assign(child, { stderrTail: () => tail });
}

/** SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. */
export async function stopChildWithin(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}
