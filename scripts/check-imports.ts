/**
 * The import rules of src/, checked with the TypeScript compiler's own import scanner (what
 * `npx madge --circular --extensions ts src` reports, without the dependency):
 * - no import cycle (type-only imports count: a cycle of types is still a knot in the design);
 * - src/lib is shared code: it never imports src/jobs, src/api, src/gateway or src/commands.
 * Run by `npm run lint`; test/unit/import-graph.test.ts asserts the second rule as well.
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

const LAYERS_ABOVE_LIB = ['src/jobs/', 'src/api/', 'src/commands/', 'src/gateway/'];

/** Imports from src/lib into the parts built on it, as "importer -> imported". */
export function libBoundaryViolations(graph: ImportGraph): string[] {
  const violations: string[] = [];
  for (const [file, targets] of graph) {
    if (!file.startsWith('src/lib/')) continue;
    for (const target of targets) {
      if (LAYERS_ABOVE_LIB.some((layer) => target.startsWith(layer))) violations.push(`${file} -> ${target}`);
    }
  }
  return violations.sort();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const graph = importGraph();
  const cycles = findCycles(graph);
  const violations = libBoundaryViolations(graph);
  for (const cycle of cycles) console.error(`import cycle: ${[...cycle, cycle[0]].join(' -> ')}`);
  for (const v of violations) console.error(`src/lib imports a part built on it: ${v}`);
  if (cycles.length > 0 || violations.length > 0) process.exit(1);
  console.log(`imports: ${graph.size} files under src, no cycle, src/lib imports only src/lib`);
}
