/**
 * The import rules of src/, checked with the TypeScript compiler's own import scanner (what
 * `npx madge --circular --extensions ts src` reports, without the dependency):
 * - no import cycle (type-only imports count: a cycle of types is still a knot in the design);
 * - layers: src/lib imports only src/lib; src/domain imports src/domain and src/lib; a job imports
 *   its own folder, src/domain and src/lib (demo and dev, which compose the pipeline, also other jobs,
 *   src/api and src/gateway); src/api (the HTTP application) imports src/domain and src/lib; a command imports
 *   jobs, src/domain and src/lib, and only `api serve` / `gateway serve` their application.
 * Run by `npm run lint`; test/unit/import-graph.test.ts asserts the rules as well.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Repo-relative .ts file -> the repo-relative .ts files it imports (relative specifiers only). */
export type ImportGraph = Map<string, string[]>;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function resolveSpecifier(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.endsWith('.ts') && existsSync(c));
}

export function importGraph(dir = 'src'): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of tsFiles(join(ROOT, dir))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => resolveSpecifier(file, name))
      .filter((target): target is string => target !== undefined)
      .map((target) => relative(ROOT, target));
    graph.set(relative(ROOT, file), [...new Set(targets)].sort());
  }
  return graph;
}

/**
 * Import cycles as the files around them, each once. A depth-first search reports every back edge, so
 * any knot of files that import each other shows up with at least one of its cycles.
 */
export function findCycles(graph: ImportGraph): string[][] {
  const cycles = new Map<string, string[]>();
  const done = new Set<string>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const visit = (file: string) => {
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (onStack.has(next)) {
        const cycle = stack.slice(stack.indexOf(next));
        // One key per cycle whatever file it was entered from: rotate to its smallest file.
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const canonical = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(canonical.join(' > '), canonical);
      } else if (!done.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    onStack.delete(file);
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) if (!done.has(file)) visit(file);
  return [...cycles.values()];
}

/** The part of src a file belongs to, as the rules below name it. */
type Part = 'lib' | 'domain' | 'job' | 'api' | 'command' | 'gateway' | 'other';

function partOf(file: string): Part {
  if (file.startsWith('src/lib/')) return 'lib';
  if (file.startsWith('src/domain/')) return 'domain';
  if (file.startsWith('src/jobs/')) return 'job';
  if (file.startsWith('src/api/')) return 'api';
  if (file.startsWith('src/commands/')) return 'command';
  if (file.startsWith('src/gateway/')) return 'gateway';
  return 'other';
}

/** src/jobs/<name>/... -> <name>. */
const jobOf = (file: string) => file.split('/')[2];

/** The jobs that start the whole pipeline in one process, and so may use the others and the API. */
export const COMPOSING_JOBS = ['demo', 'dev'];
/** The only command that may import the HTTP application (and the simulator's command, its own). */
export const COMMANDS_WITH_APPLICATION: Record<string, Part> = {
  'src/commands/api/serve.ts': 'api',
  'src/commands/gateway/serve.ts': 'gateway',
};

/** What each part may import besides itself (a job: its own folder only). */
const ALLOWED: Record<Part, Part[]> = {
  lib: ['lib'],
  domain: ['domain', 'lib'],
  job: ['domain', 'lib'],
  api: ['api', 'domain', 'lib'],
  gateway: ['gateway', 'lib'],
  command: ['job', 'domain', 'lib'],
  other: ['lib', 'domain', 'job', 'api', 'command', 'gateway', 'other'],
};

/** Why importing `target` from `file` breaks the layering, or undefined when it may. */
function violation(file: string, target: string): string | undefined {
  const from = partOf(file);
  const to = partOf(target);
  if (from === 'job' && to === 'job') {
    if (jobOf(file) === jobOf(target) || COMPOSING_JOBS.includes(jobOf(file)!)) return undefined;
    return 'a job imports another job';
  }
  if (from === 'job' && (to === 'api' || to === 'gateway') && COMPOSING_JOBS.includes(jobOf(file)!))
    return undefined;
  if (from === 'command' && COMMANDS_WITH_APPLICATION[file] === to) return undefined;
  if (ALLOWED[from].includes(to)) return undefined;
  return `src/${from === 'job' ? 'jobs' : from === 'command' ? 'commands' : from} imports src/${to === 'job' ? 'jobs' : to === 'command' ? 'commands' : to}`;
}

/** Imports that break the layering, as "importer -> imported (rule)". */
export function layerViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      const why = violation(file, target);
      if (why) violations.push(`${file} -> ${target} (${why})`);
    }
  }
  return violations.sort();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const graph = importGraph();
  const cycles = findCycles(graph);
  const violations = layerViolations(graph);
  for (const cycle of cycles) console.error(`import cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  for (const v of violations) console.error(`layering: ${v}`);
  if (cycles.length > 0 || violations.length > 0) process.exit(1);
  console.log(`imports: ${graph.size} files under src, no cycle, every import within its layer's rules`);
}
