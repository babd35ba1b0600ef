#!/usr/bin/env -S node --import tsx --no-warnings=ExperimentalWarning
// Runs the TypeScript sources directly (no build step); for development only.
// tsx is loaded by the shebang, so oclif is pointed at src/commands and told not to transpile itself.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execute, settings } from '@oclif/core';

settings.enableAutoTranspile = false;
const root = fileURLToPath(new URL('..', import.meta.url));
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
pjson.oclif.commands = './src/commands';
pjson.oclif.helpClass = './src/lib/cli/help.ts';
await execute({ development: true, dir: import.meta.url, loadOptions: { root, pjson } });
