import { describe, expect, it } from 'vitest';
import { findCycles, importGraph, layerViolations, type ImportGraph } from '../../scripts/check-imports.js';

describe('import rules of src', () => {
  it('the real tree keeps its layers', () => {
    const graph = importGraph();
    // The scan sees the real tree: files and their imports are found (no vacuous pass).
    expect(graph.get('src/lib/kafka/topics.ts')).toContain('src/lib/kafka/topic-admin.ts');
    expect(graph.get('src/jobs/relay/relay.ts')).toContain('src/lib/errors.ts');
    expect(layerViolations(graph)).toEqual([]);
  });

  it('names each import that breaks a layer rule, and allows the named exceptions', () => {
    const graph: ImportGraph = new Map([
      ['src/lib/a.ts', ['src/lib/b.ts', 'src/jobs/relay/relay.ts', 'src/domain/orders/sql.ts']],
      ['src/domain/orders/create.ts', ['src/domain/catalog/cache.ts', 'src/lib/a.ts', 'src/api/app.ts']],
      ['src/jobs/rebuild/rebuild.ts', ['src/jobs/rebuild/sql.ts', 'src/jobs/verify/ranking.ts']],
      ['src/jobs/relay/relay.ts', ['src/domain/orders/sql.ts', 'src/api/app.ts']],
      ['src/jobs/dev/dev.ts', ['src/jobs/relay/relay.ts', 'src/api/app.ts']],
      ['src/api/routes/orders.ts', ['src/domain/orders/create.ts', 'src/jobs/relay/relay.ts']],
      ['src/commands/api/serve.ts', ['src/api/app.ts']],
      ['src/commands/payments/status.ts', ['src/api/app.ts', 'src/domain/payments/status.ts']],
      ['src/commands/relay/run.ts', ['src/jobs/relay/relay.ts', 'src/commands/relay/other.ts']],
    ]);
    expect(layerViolations(graph)).toEqual([
      'src/api/routes/orders.ts -> src/jobs/relay/relay.ts (src/api imports src/jobs)',
      'src/commands/payments/status.ts -> src/api/app.ts (src/commands imports src/api)',
      'src/commands/relay/run.ts -> src/commands/relay/other.ts (src/commands imports src/commands)',
      'src/domain/orders/create.ts -> src/api/app.ts (src/domain imports src/api)',
      'src/jobs/rebuild/rebuild.ts -> src/jobs/verify/ranking.ts (a job imports another job)',
      'src/jobs/relay/relay.ts -> src/api/app.ts (src/jobs imports src/api)',
      'src/lib/a.ts -> src/domain/orders/sql.ts (src/lib imports src/domain)',
      'src/lib/a.ts -> src/jobs/relay/relay.ts (src/lib imports src/jobs)',
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
