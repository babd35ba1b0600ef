import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { publishedFiles, SCHEMAS_DIR } from '../src/lib/events/published.js';

/**
 * `npm run schemas`: rewrites schemas/ (the JSON Schema of every event type at every version and the
 * AsyncAPI document) from the zod definitions in src/lib/events. test/unit/events-schemas.test.ts
 * fails when the committed files are stale. A released version's file is never deleted by hand:
 * `commerce events check` fails without it.
 */
const files = publishedFiles();
for (const [path, content] of files) {
  await mkdir(dirname(`${SCHEMAS_DIR}${path}`), { recursive: true });
  await writeFile(`${SCHEMAS_DIR}${path}`, content);
}
// Files of types or versions no longer defined are left for `events check` to report, never removed.
const stray = (await readdir(SCHEMAS_DIR, { recursive: true })).filter(
  (p) => p.endsWith('.json') && !files.has(p),
);
for (const p of stray) console.warn(`schemas/${p}: no longer generated (see commerce events check)`);
console.log(`${files.size} files in schemas/`);
