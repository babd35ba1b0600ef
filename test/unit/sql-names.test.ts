import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The SQL convention, checked on the source of every statement (each `sql(...)` call under src):
 * - it lives in a file named sql.ts, or, for an owner whose SQL is split by operation (graphile-worker's
 *   habit: src/lib/outbox), in a file of a folder named sql/ (sql/claim-lease.ts, sql/mark.ts...), in a
 *   module-level function (`function f` or `const f = () =>`);
 * - its name is `<owner>.<verb-noun>`: owner = the folder holding that sql.ts or that sql/ folder
 *   (the split files share their owner's names: outbox.mark-published is in outbox/sql/mark.ts),
 *   verb-noun = the function's name in kebab-case, which starts with a verb from VERBS; a name that
 *   varies (one statement per table) is that name plus `-${key}` at the end;
 * - no two statements share a name (node-postgres refuses one name prepared with two texts).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERBS = new Set(
  'abandon bump claim count create delete finish insert lock mark move notify record refund release renew reset select set start sum try unlock update upsert'.split(
    ' ',
  ),
);

interface Statement {
  file: string;
  fn: string | undefined;
  /** The name with a dynamic suffix written as `${}`. */
  name: string;
  dynamic: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(`${dir}/${d.name}`) : d.name.endsWith('.ts') ? [`${dir}/${d.name}`] : [],
  );
}

function enclosingFunctionName(node: ts.Node): string | undefined {
  let top: ts.Node = node;
  while (top.parent && !ts.isSourceFile(top.parent)) top = top.parent;
  if (ts.isFunctionDeclaration(top)) return top.name?.text;
  if (ts.isVariableStatement(top)) {
    const [decl] = top.declarationList.declarations;
    const init = decl?.initializer;
    if (
      decl &&
      ts.isIdentifier(decl.name) &&
      init &&
      (ts.isArrowFunction(init) || ts.isFunctionExpression(init))
    )
      return decl.name.text;
  }
  return undefined;
}

function statements(): Statement[] {
  const found: Statement[] = [];
  for (const path of sourceFiles(`${ROOT}src`)) {
    const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true);
    const file = relative(ROOT, path);
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'sql') {
        const arg = node.arguments[0];
        const fn = enclosingFunctionName(node);
        if (arg && (ts.isStringLiteral(arg) || ts.isNoSubstitutionTemplateLiteral(arg)))
          found.push({ file, fn, name: arg.text, dynamic: false });
        else if (arg && ts.isTemplateExpression(arg))
          found.push({
            file,
            fn,
            name: arg.head.text + arg.templateSpans.map((s) => '${}' + s.literal.text).join(''),
            dynamic: true,
          });
        else found.push({ file, fn, name: `<not a literal: ${arg?.getText()}>`, dynamic: false });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return found;
}

const kebab = (camel: string) => camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

describe('SQL statements follow one convention', () => {
  const all = statements();

  it('finds the statements', () => {
    expect(all.length).toBeGreaterThan(40);
  });

  it.each(all.map((s) => [`${s.file} ${s.name}`, s] as const))('%s', (_, s) => {
    const split = basename(dirname(s.file)) === 'sql';
    if (!split) expect(basename(s.file), 'statements live in sql.ts or sql/<operation>.ts').toBe('sql.ts');
    expect(s.fn, 'statements are built by module-level functions').toBeDefined();
    expect(VERBS.has(kebab(s.fn!).split('-')[0]!), `${s.fn} starts with a verb`).toBe(true);
    const owner = basename(split ? dirname(dirname(s.file)) : dirname(s.file));
    const expected = `${owner}.${kebab(s.fn!)}`;
    expect(s.name).toBe(s.dynamic ? `${expected}-\${}` : expected);
  });

  it('no two statements share a name', () => {
    const names = all.map((s) => s.name);
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
  });
});
