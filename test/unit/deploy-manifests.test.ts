import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { Parser } from '@oclif/core';
import type { BaseCommand } from '../../src/lib/cli/base-command.js';

/**
 * deploy/k8s must stay valid and must only run commands the CLI has. Command ids come from the
 * source tree (src/commands/<topic>/<verb>.ts); each container's argv is parsed with that command's
 * own flags by oclif's parser, so a renamed flag or a value the flag rejects fails here, not in a pod.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const K8S = `${ROOT}deploy/k8s/`;

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const read = (dir: string): Array<{ file: string; doc: Doc }> =>
  readdirSync(K8S + dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((name) => {
      const file = dir + name;
      return parseAllDocuments(readFileSync(K8S + file, 'utf8')).map((d) => {
        if (d.errors.length > 0) throw new Error(`${file}: ${d.errors[0]!.message}`);
        return { file, doc: d.toJS() as Doc };
      });
    });
/** The set applied together, and variants/ that replace one of its objects (same kind and name). */
const docs = read('');
const variants = read('variants/');
const ofKind = (kind: string, set = docs) => set.filter((d) => d.doc.kind === kind).map((d) => d.doc);
const podSpec = (d: Doc): Doc =>
  d.kind === 'CronJob' ? d.spec.jobTemplate.spec.template.spec : d.spec.template.spec;

/** Every container's args, which the image's ENTRYPOINT (`node bin/run.js`) receives. */
const invocations = [...docs, ...variants].flatMap(({ file, doc }) =>
  ['Deployment', 'CronJob', 'Job'].includes(doc.kind)
    ? (podSpec(doc).containers as Doc[]).map((c) => ({
        where: `${file}:${doc.metadata.name}`,
        args: c.args as string[],
      }))
    : [],
);

/** The command id of an argv: the words before the first flag, joined oclif-style. */
function commandId(args: string[]): string {
  const words: string[] = [];
  for (const a of args) {
    if (a.startsWith('-')) break;
    words.push(a);
  }
  return words.join(':');
}

/** Command id -> source file, the way oclif names them (`index.ts` is its folder's command). */
function sourceCommands(dir = `${ROOT}src/commands`, prefix: string[] = []): Map<string, string> {
  const commands = new Map<string, string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      for (const [id, file] of sourceCommands(path, [...prefix, entry.name])) commands.set(id, file);
    } else if (entry.name.endsWith('.ts')) {
      const name = entry.name.slice(0, -3);
      commands.set([...prefix, ...(name === 'index' ? [] : [name])].join(':'), path);
    }
  }
  return commands;
}

describe('deploy/k8s manifests', () => {
  it('parse, and hold the expected objects', () => {
    expect(docs.length).toBeGreaterThan(0);
    for (const { file, doc } of docs) {
      expect(doc.apiVersion, file).toBeTruthy();
      expect(doc.metadata?.name, file).toBeTruthy();
    }
    expect(
      ofKind('Deployment')
        .map((d) => d.metadata.name)
        .sort(),
    ).toEqual([
      'commerce-api',
      'commerce-collector-analytics',
      'commerce-collector-live',
      'commerce-collector-webhook',
      'commerce-metrics-exporter',
      'commerce-relay',
    ]);
    expect(ofKind('ConfigMap')).toHaveLength(1);
    expect(Object.keys(ofKind('Secret')[0]!.stringData).sort()).toEqual([
      'ADMIN_TOKEN',
      'DATABASE_URL',
      'GATEWAY_SECRET',
      'WEBHOOK_SECRET',
    ]);
    expect(ofKind('Job').map((j) => podSpec(j).containers[0].args)).toEqual([
      ['db', 'migrate'],
      ['kafka', 'topics', '--timeout', '2m'],
    ]);
  });

  it('deployments have probes on their health endpoints, a drain grace period and resources', () => {
    for (const d of [...ofKind('Deployment'), ...ofKind('Deployment', variants)]) {
      const spec = podSpec(d);
      expect(spec.terminationGracePeriodSeconds, d.metadata.name).toBeGreaterThanOrEqual(30);
      expect(d.spec.selector.matchLabels).toEqual(
        Object.fromEntries(
          Object.entries(d.spec.template.metadata.labels).filter(([k]) => k in d.spec.selector.matchLabels),
        ),
      );
      for (const c of spec.containers as Doc[]) {
        expect(c.livenessProbe.httpGet.path, d.metadata.name).toBe('/healthz');
        expect(['/healthz', '/readyz']).toContain(c.readinessProbe.httpGet.path);
        const portNames = (c.ports as Doc[]).map((p) => p.name);
        expect(portNames).toContain(c.livenessProbe.httpGet.port);
        expect(c.resources.requests.cpu && c.resources.requests.memory, d.metadata.name).toBeTruthy();
        expect(c.resources.limits.memory).toBeTruthy();
        expect(c.envFrom).toEqual([
          { configMapRef: { name: 'commerce-config' } },
          { secretRef: { name: 'commerce-secrets' } },
        ]);
      }
    }
    const api = ofKind('Deployment').find((d) => d.metadata.name === 'commerce-api')!;
    expect(podSpec(api).containers[0].readinessProbe.httpGet.path).toBe('/readyz');
  });

  it('each variant replaces an object of the set by kind and name', () => {
    expect(variants.length).toBeGreaterThan(0);
    for (const { file, doc } of variants) {
      const same = ofKind(doc.kind).find((d) => d.metadata.name === doc.metadata.name);
      expect(same, `${file}: ${doc.kind} ${doc.metadata.name} is not in deploy/k8s`).toBeDefined();
      expect(doc.spec.selector, file).toEqual(same!.spec.selector);
    }
  });

  it('collector groups split by function cover every handler once, each group its own Deployment', () => {
    const runs = invocations.filter((i) => i.args[0] === 'collector' && i.args[1] === 'run');
    const flag = (args: string[], name: string) => args[args.indexOf(name) + 1]!;
    const groups = runs.map((r) => flag(r.args, '--group'));
    expect(new Set(groups).size).toBe(runs.length);
    const handlers = runs.flatMap((r) => flag(r.args, '--handlers').split(','));
    expect(handlers.sort()).toEqual(['audit', 'cache', 'metrics', 'ranking', 'webhook']);
  });

  it('cron jobs never overlap and run the expected commands', () => {
    const crons = ofKind('CronJob');
    for (const c of crons) {
      expect(c.spec.concurrencyPolicy, c.metadata.name).toBe('Forbid');
      expect(c.spec.schedule.split(' '), c.metadata.name).toHaveLength(5);
      expect(podSpec(c).restartPolicy).toBe('Never');
    }
    expect(crons.map((c) => podSpec(c).containers[0].args.join(' ')).sort()).toEqual([
      'aggregate --period monthly',
      'aggregate --period weekly',
      'orders expire',
      'outbox cleanup --older-than 7d --batch-size 1000',
      'payments recover --older-than 1m --limit 1000',
      'ranking carry-over',
    ]);
    const recover = crons.find((c) => c.metadata.name === 'commerce-payments-recover')!;
    expect(recover.spec.schedule).toBe('*/5 * * * *');
  });

  const commands = sourceCommands();
  for (const { where, args } of invocations) {
    it(`${where} runs a command of the CLI, with flags it accepts: ${args.join(' ')}`, async () => {
      const id = commandId(args);
      expect([...commands.keys()]).toContain(id);
      // The command class itself, parsed by oclif's own parser exactly as `node bin/run.js` would:
      // an unknown flag, a missing value or a value the flag rejects (integer, options) throws.
      const { default: command } = (await import(commands.get(id)!)) as { default: typeof BaseCommand };
      const argv = args.slice(id.split(':').length);
      await expect(
        Parser.parse(argv, {
          flags: { ...command.baseFlags, ...command.flags },
          args: command.args,
          strict: command.strict,
        }),
        `${where}: ${args.join(' ')}`,
      ).resolves.toBeDefined();
    });
  }

  it('probes and scrape annotations point at the port each command listens on', () => {
    for (const d of [...ofKind('Deployment'), ...ofKind('Deployment', variants)]) {
      const spec = podSpec(d);
      for (const c of spec.containers as Doc[]) {
        const args = c.args as string[];
        // Workers serve /healthz and /metrics on --metrics-port (the exporter on --port); the API
        // listens on API_PORT.
        const flagPort = args.findIndex((a) => a === '--metrics-port' || a === '--port');
        const port =
          flagPort >= 0
            ? Number(args[flagPort + 1])
            : Number((c.env as Doc[]).find((e) => e.name === 'API_PORT')?.value);
        const named = (name: string) => (c.ports as Doc[]).find((p) => p.name === name)?.containerPort;
        expect(named(c.livenessProbe.httpGet.port), d.metadata.name).toBe(port);
        expect(named(c.readinessProbe.httpGet.port), d.metadata.name).toBe(port);
        const scrape = d.spec.template.metadata.annotations?.['prometheus.io/port'];
        if (scrape !== undefined) expect(Number(scrape), d.metadata.name).toBe(port);
      }
    }
  });
});
