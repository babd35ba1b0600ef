import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Config, Plugin, type Command } from '@oclif/core';
import CommerceHelp from '../../src/lib/cli/help.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const COMMANDS_DIR = join(ROOT, 'src/commands');

/**
 * oclif's own command -> manifest entry function (what `oclif manifest` writes and `oclif readme`
 * reads: flags with base flags and --json merged in, defaults resolved, extra statics such as
 * `exitCodes` kept). @oclif/core does not export it from its entry point, so it is required by file.
 */
const require = createRequire(import.meta.url);
const { cacheCommand } = require(join(dirname(require.resolve('@oclif/core')), 'util/cache-command.js')) as {
  cacheCommand: (cmd: Command.Class) => Promise<Command.Cached>;
};

export interface CommandInfo {
  /** As typed: `relay run`. */
  readonly id: string;
  /** Repo-relative source file. */
  readonly file: string;
  /** Its topic (the first word), which names its page under docs/commands/. */
  readonly topic: string;
  readonly cls: Command.Class;
  /** oclif's metadata of the command (its manifest entry). */
  readonly cached: Command.Cached & { exitCodes?: readonly string[] };
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
    )
    .sort();
}

/** Every command under src/commands, by id, with oclif's metadata (sources: no build needed). */
export async function loadCommands(): Promise<CommandInfo[]> {
  const commands: CommandInfo[] = [];
  for (const path of tsFiles(COMMANDS_DIR)) {
    const words = relative(COMMANDS_DIR, path)
      .replace(/\.ts$/, '')
      .split('/')
      .filter((w, i, all) => !(w === 'index' && i === all.length - 1));
    const cls = ((await import(pathToFileURL(path).href)) as { default: Command.Class }).default;
    const cached = { ...(await cacheCommand(cls)), id: words.join(':') };
    if (cached.hidden) continue;
    commands.push({ id: words.join(' '), file: relative(ROOT, path), topic: words[0]!, cls, cached });
  }
  return commands.sort((a, b) => a.id.localeCompare(b.id));
}

/** The CLI's oclif configuration (bin, topics, help class) without loading any command. */
export async function loadCliConfig(): Promise<Config> {
  const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const { commands: _commands, ...oclif } = pjson.oclif;
  // Ignore the build's oclif.manifest.json: the pages must not depend on whether a build ran.
  const plugin = new Plugin({ ignoreManifest: true, isRoot: true, pjson: { ...pjson, oclif }, root: ROOT });
  await plugin.load();
  return Config.load({ root: ROOT, pjson: { ...pjson, oclif }, plugins: new Map([[plugin.name, plugin]]) });
}

/** A command's `--help` as the CLI prints it (our help class, no colours, fixed width). */
export function helpText(config: Config, command: CommandInfo): string {
  const help = new CommerceHelp(config, { stripAnsi: true, maxWidth: 100 });
  // formatCommand rewrites the id and aliases it is given: hand it a copy.
  return help.commandHelp({ ...command.cached, aliases: [...command.cached.aliases] } as Command.Loadable);
}
