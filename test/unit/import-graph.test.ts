import { describe, expect, it } from 'vitest';
import {
  findCycles,
  importGraph,
  libBoundaryViolations,
  type ImportGraph,
} from '../../scripts/check-imports.js';

describe('import rules of src', () => {
  it('no file under src/lib imports from src/jobs, src/api, src/gateway or src/commands', () => {
    const graph = importGraph();
    // The scan sees the real tree: src/lib files and their imports are found (no vacuous pass).
    expect(graph.get('src/lib/kafka/topics.ts')).toContain('src/lib/kafka/topic-admin.ts');
    expect(graph.get('src/jobs/relay/relay.ts')).toContain('src/lib/errors.ts');
    expect(libBoundaryViolations(graph)).toEqual([]);
  });

  it('the boundary check names an import from src/lib into a part built on it', () => {
    const graph: ImportGraph = new Map([
      ['src/lib/a.ts', ['src/lib/b.ts', 'src/jobs/relay/relay.ts']],
      ['src/lib/b.ts', ['src/api/http/app.ts']],
      ['src/lib/c.ts', ['src/gateway/server.ts']],
      ['src/jobs/relay/relay.ts', ['src/lib/a.ts']],
    ]);
    expect(libBoundaryViolations(graph)).toEqual([
      'src/lib/a.ts -> src/jobs/relay/relay.ts',
      'src/lib/b.ts -> src/api/http/app.ts',
      'src/lib/c.ts -> src/gateway/server.ts',
    ]);
  });

  it('the cycle check finds a cycle once, whichever file it is entered from, and none in a tree', () => {
    const cyclic: ImportGraph = new Map([
      ['c.ts', ['a.ts']],
      ['a.ts', ['b.ts', 'd.ts']],
      ['b.ts', ['c.ts']],
      ['d.ts', []],
    ]);
    expect(findCycles(cyclic)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
    const tree: ImportGraph = new Map([
      ['a.ts', ['b.ts', 'c.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', []],
    ]);
    expect(findCycles(tree)).toEqual([]);
  });
});
