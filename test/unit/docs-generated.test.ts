import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Flags } from '@oclif/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GENERATED_DIRS, generateDocs } from '../../scripts/docs.js';
import { ROOT, loadCommands, type CommandInfo } from '../../scripts/docs/commands.js';
import type { Pages } from '../../scripts/docs/pages.js';
import { ENV_READERS, EVERY_COMMAND, envSchema } from '../../src/lib/config/env.js';

/**
 * The generated reference (docs/commands/, docs/reference/) is regenerated in memory from the code and
 * compared with the committed files, as docs/schema.sql is (test/integration/schema-dump.test.ts).
 */
let commands: CommandInfo[];
let pages: Pages;

beforeAll(async () => {
  commands = await loadCommands();
  pages = await generateDocs(commands);
});

describe('the generated reference', () => {
  it('every generated file is current (stale: run `npm run docs`)', () => {
    const stale = [...pages]
      .filter(([path, content]) => {
        const file = join(ROOT, path);
        return !existsSync(file) || readFileSync(file, 'utf8') !== content;
      })
      .map(([path]) => path);
    expect(stale, `stale: ${stale.join(', ')}; run \`npm run docs\` and commit the result`).toEqual([]);
  });

  it('no page is left of a command or topic that is gone (run `npm run docs`)', () => {
    for (const dir of GENERATED_DIRS) {
      const extra = readdirSync(join(ROOT, dir)).filter((name) => !pages.has(`${dir}/${name}`));
      expect(extra, `${dir}: not generated any more; run \`npm run docs\``).toEqual([]);
    }
  });

  it('changes with a flag: a flag added without `npm run docs` fails the first test', async () => {
    const verify = commands.find((c) => c.id === 'verify')!;
    const flag = { ...Flags.boolean({ summary: 'A probe flag.' }), name: 'docs-probe' };
    const mutated = {
      ...verify,
      cached: { ...verify.cached, flags: { ...verify.cached.flags, 'docs-probe': flag } },
    };
    const changed = await generateDocs(commands.map((c) => (c === verify ? mutated : c)));
    expect(changed.get('docs/commands/verify.md')).toContain('--docs-probe');
    expect(changed.get('docs/commands/verify.md')).not.toBe(
      readFileSync(join(ROOT, 'docs/commands/verify.md'), 'utf8'),
    );
  });

  it('every command has a section; every variable has a meaning and readers that exist', () => {
    for (const c of commands) {
      expect(pages.get(`docs/commands/${c.topic}.md`), c.id).toContain(`## \`commerce ${c.id}\``);
    }
    const ids = new Set(commands.map((c) => c.id));
    for (const [name, schema] of Object.entries(envSchema.shape)) {
      expect(schema.description, `${name}: .describe() its meaning`).toBeTruthy();
      const readers = ENV_READERS[name as keyof typeof ENV_READERS];
      expect(readers.length, `${name}: which commands read it (ENV_READERS)`).toBeGreaterThan(0);
      for (const id of readers) expect(id === EVERY_COMMAND || ids.has(id), `${name}: ${id}`).toBe(true);
    }
  });

  it("a command that opens a client is among its URL's readers (ENV_READERS)", () => {
    const clients = { db: 'DATABASE_URL', redis: 'REDIS_URL', kafka: 'KAFKA_BROKERS' } as const;
    for (const c of commands) {
      const source = readFileSync(join(ROOT, c.file), 'utf8');
      for (const [client, name] of Object.entries(clients)) {
        if (new RegExp(`this\\.(${client}|deps)\\(\\)`).test(source))
          expect(ENV_READERS[name], `${c.id} opens ${client}: add it to ENV_READERS.${name}`).toContain(c.id);
      }
    }
  });
});
