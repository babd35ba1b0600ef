import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, loadCommands, type CommandInfo } from '../../scripts/docs/commands.js';
import { EXIT_CODES, type ExitCodeName } from '../../src/lib/cli/exit-codes.js';
import { BATCH_JOBS } from '../../src/lib/jobs/registry.js';
import { runCli } from '../support/cli.js';

/**
 * Every command declares the exit codes it can return beyond every command's (static exitCodes), and
 * `--help` lists them with their meanings from the one table (lib/cli/exit-codes.ts). The declarations
 * are checked against what can be seen: a job that takes a lock, a self-check, a client opened.
 */
let commands: CommandInfo[];

beforeAll(async () => {
  commands = await loadCommands();
});

function declared(c: CommandInfo): readonly ExitCodeName[] {
  return (c.cls as unknown as { exitCodes: readonly ExitCodeName[] }).exitCodes;
}

describe('exit codes per command', () => {
  it('every command declares its own (even none), only codes that not every command returns', () => {
    expect(commands.length).toBeGreaterThan(20);
    for (const c of commands) {
      expect(Object.hasOwn(c.cls, 'exitCodes'), `${c.file}: static override exitCodes = [...]`).toBe(true);
      for (const name of declared(c)) {
        expect(EXIT_CODES[name], `${c.id}: ${name}`).toBeDefined();
        expect(EXIT_CODES[name].every, `${c.id}: ${name} is every command's already`).toBe(false);
      }
    }
  });

  it('LOCKED exactly for the commands that run a job under a lock (and demo, which runs aggregate)', () => {
    const locked = BATCH_JOBS.filter((j) => j.lockKey !== null).map((j) =>
      j.command
        .filter((w, i) => !w.startsWith('-') && !j.command.slice(0, i).some((x) => x.startsWith('-')))
        .join(' '),
    );
    const declaring = commands.filter((c) => declared(c).includes('LOCKED')).map((c) => c.id);
    expect(declaring.sort()).toEqual([...new Set([...locked, 'demo'])].sort());
  });

  it('VERIFY for a command that reports a discrepancy; UNAVAILABLE only with a client opened', () => {
    for (const c of commands) {
      const source = readFileSync(join(ROOT, c.file), 'utf8');
      if (/ExitCode\.VERIFY|VerifyError/.test(source)) expect(declared(c), c.id).toContain('VERIFY');
      if (declared(c).includes('UNAVAILABLE'))
        // A client opened by the command, or by the job it hands the configuration to (trace opens each
        // source itself, to give each its own timeout).
        expect(source, `${c.id} declares 4 but opens no client`).toMatch(
          /this\.(db|redis|kafka|deps)\(\)|config: this\.appConfig/,
        );
    }
  });
});

describe('--help (the built CLI: npm run build)', () => {
  it('lists the exit codes with their meanings', async () => {
    const helpClass = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).oclif.helpClass;
    expect(existsSync(join(ROOT, helpClass)), `${helpClass} missing: run \`npm run build\` first`).toBe(true);
    const [verify, gateway] = await Promise.all([
      runCli(['verify', '--help'], {}),
      runCli(['gateway', 'serve', '--help'], {}),
    ]);
    expect(verify.code).toBe(0);
    const section = verify.stdout.slice(verify.stdout.indexOf('EXIT CODES'));
    expect(section).toMatch(/^EXIT CODES\n {2}0 +success/);
    for (const code of [1, 2, 3, 4, 6, 130]) expect(section).toMatch(new RegExp(`\\n {2}${code} +\\w`));
    expect(section).not.toMatch(/\n {2}5 +/);
    expect(section).toContain(EXIT_CODES.VERIFY.meaning.slice(0, 40));

    const codes = [...gateway.stdout.slice(gateway.stdout.indexOf('EXIT CODES')).matchAll(/\n {2}(\d+) /g)];
    expect(codes.map((m) => Number(m[1]))).toEqual([0, 1, 2, 3, 130]);
  });
});
