import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, loadCliConfig, loadCommands, type CommandInfo } from './docs/commands.js';
import { commandPages, environmentPage, exitCodesPage, type Pages } from './docs/pages.js';

/**
 * The reference generated from the code (`npm run docs`): the command pages from oclif's metadata and
 * our help class (docs/commands/), the environment variables from the config schema
 * (docs/reference/environment.md), the exit codes from their table (docs/reference/exit-codes.md).
 * test/unit/docs-generated.test.ts regenerates them in memory and fails when a file is stale.
 */
export const GENERATED_DIRS = ['docs/commands'];

export async function generateDocs(commands?: readonly CommandInfo[]): Promise<Pages> {
  const loaded = commands ?? (await loadCommands());
  const config = await loadCliConfig();
  const pages = commandPages(config, loaded);
  pages.set('docs/reference/environment.md', environmentPage(loaded));
  pages.set('docs/reference/exit-codes.md', exitCodesPage(loaded));
  return pages;
}

async function main(): Promise<void> {
  const pages = await generateDocs();
  // A page of a command or topic that no longer exists goes.
  for (const dir of GENERATED_DIRS) {
    for (const name of await readdir(join(ROOT, dir)).catch(() => [])) {
      if (!pages.has(`${dir}/${name}`)) await rm(join(ROOT, dir, name));
    }
  }
  for (const [path, content] of pages) {
    await mkdir(dirname(join(ROOT, path)), { recursive: true });
    await writeFile(join(ROOT, path), content);
  }
  console.log(`wrote ${pages.size} files: docs/commands/, docs/reference/`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
