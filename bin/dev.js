#!/usr/bin/env -S node --import tsx --no-warnings=ExperimentalWarning
// Runs the TypeScript sources directly (no build step); for development only.
// tsx is loaded by the shebang, so oclif is pointed at src/commands and told not to transpile itself.
// The root plugin ignores oclif.manifest.json, which the build writes for dist/, not for the sources.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execute, Plugin, settings } from '@oclif/core';

settings.enableAutoTranspile = false;
const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './src/commands';
pjson.oclif.helpClass = './src/lib/cli/help.ts';
const plugin = new Plugin({ ignoreManifest: true, isRoot: true, pjson, root });
await plugin.load();
await execute({
  development: true,
  dir: import.meta.url,
  loadOptions: { pjson, plugins: new Map([[plugin.name, plugin]]), root },
});
