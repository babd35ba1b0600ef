import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Links in README.md and docs/**\/*.md: no relative link to a file that does not exist, no anchor
 * that names no heading (GitHub's heading slugs, github-slugger's rule) or explicit anchor of its page.
 */
const ROOT = resolve(import.meta.dirname, '../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return markdownFiles(path);
    return e.name.endsWith('.md') ? [path] : [];
  });
}

/** The text outside fenced code blocks, line by line (code lines blanked, so line numbers stay). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (marker && marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
      return '';
    }
    if (marker) {
      fence = marker;
      return '';
    }
    return line;
  });
}

/** GitHub's anchor of a heading: github-slugger on the heading's text, numbered when repeated. */
export function githubSlug(heading: string, seen: Map<string, number>): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/[`*~]/g, '');
  const base = text
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
  let slug = base;
  let n = seen.get(base) ?? 0;
  while (seen.has(slug)) slug = `${base}-${++n}`;
  seen.set(base, n);
  seen.set(slug, 0);
  return slug;
}

const anchorCache = new Map<string, Set<string>>();
function anchorsOf(file: string): Set<string> {
  let anchors = anchorCache.get(file);
  if (anchors) return anchors;
  anchors = new Set();
  const seen = new Map<string, number>();
  for (const line of proseLines(readFileSync(file, 'utf8'))) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (heading) anchors.add(githubSlug(heading[1]!, seen));
    for (const m of line.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  proseLines(readFileSync(file, 'utf8')).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, ''); // inline code is not a link
    const targets = [
      ...[...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!),
      ...[...line.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/g)].map((m) => m[1]!), // reference definitions
      ...[...line.matchAll(/<a\s[^>]*href="([^"]+)"/g)].map((m) => m[1]!),
    ];
    for (const target of targets) links.push({ file, line: i + 1, target });
  });
  return links;
}

/** Why a link is dead, or undefined when it resolves. */
export function deadLink({ file, target }: Link): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // https:, mailto: ...
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash < 0 ? target : target.slice(0, hash));
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved =
    path === '' ? file : path.startsWith('/') ? join(ROOT, path) : resolve(dirname(file), path);
  if (!existsSync(resolved)) return `no such file: ${relative(ROOT, resolved)}`;
  if (anchor === undefined || anchor === '' || !resolved.endsWith('.md') || statSync(resolved).isDirectory())
    return undefined;
  if (!anchorsOf(resolved).has(anchor)) return `no heading #${anchor} in ${relative(ROOT, resolved)}`;
  return undefined;
}

describe('links in README.md and docs/', () => {
  const files = [join(ROOT, 'README.md'), ...markdownFiles(join(ROOT, 'docs'))];

  it('reads every page and finds its links', () => {
    expect(files.length).toBeGreaterThan(3);
    expect(files.flatMap(linksOf).length).toBeGreaterThan(20);
  });

  it('has no dead relative link and no anchor without its heading', () => {
    const dead = files.flatMap(linksOf).flatMap((link) => {
      const why = deadLink(link);
      return why ? [`${relative(ROOT, link.file)}:${link.line}: (${link.target}) ${why}`] : [];
    });
    expect(dead).toEqual([]);
  });

  it('finds a dead file, a dead anchor and a dead anchor in another page', () => {
    const file = join(ROOT, 'README.md');
    expect(deadLink({ file, line: 1, target: 'docs/no-such-page.md' })).toMatch(/^no such file/);
    expect(deadLink({ file, line: 1, target: '#no-such-heading' })).toMatch(/^no heading #no-such-heading/);
    expect(deadLink({ file, line: 1, target: 'docs/commands/relay.md#commerce-relay-walk' })).toMatch(
      /^no heading/,
    );
    expect(deadLink({ file, line: 1, target: 'docs/commands/relay.md#commerce-relay-run' })).toBeUndefined();
    expect(deadLink({ file, line: 1, target: 'https://example.com/#anything' })).toBeUndefined();
  });

  it("computes GitHub's anchors", () => {
    const seen = new Map<string, number>();
    expect(githubSlug('Exit codes', seen)).toBe('exit-codes');
    expect(githubSlug('`commerce relay run`', seen)).toBe('commerce-relay-run');
    expect(githubSlug('CDC mode (`--mode cdc`, issue 23)', seen)).toBe('cdc-mode---mode-cdc-issue-23');
    expect(githubSlug('Health: `doctor`', seen)).toBe('health-doctor');
    expect(githubSlug('Exit codes', seen)).toBe('exit-codes-1');
    expect(githubSlug('Exit codes', seen)).toBe('exit-codes-2');
    expect(githubSlug('Rankings: `aggregate`', seen)).toBe('rankings-aggregate');
  });
});
