import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { Gauge, Registry } from 'prom-client';
import { Lifecycle, liveLoops } from '../../src/lib/lifecycle.js';

function setup(signal?: AbortSignal, instance = 'host-1-abc') {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const registry = new Registry();
  const gauge = new Gauge({ name: 'loop_state', help: 'h', labelNames: ['state'], registers: [registry] });
  const lifecycle = new Lifecycle('loop', instance, { logger, signal, gauge });
  const current = async () =>
    (await gauge.get()).values.filter((v) => v.value === 1).map((v) => v.labels.state);
  return { lifecycle, lines, current };
}

describe('Lifecycle', () => {
  it('is listed among the live loops (what a stuck shutdown waits for) until it is stopped', () => {
    const { lifecycle } = setup(undefined, 'host-1-live');
    lifecycle.set('running');
    const mine = () => liveLoops().filter((l) => l.instance === 'host-1-live');
    expect(mine()).toEqual([{ component: 'loop', instance: 'host-1-live', state: 'running' }]);
    lifecycle.set('stopping');
    lifecycle.set('stopped');
    expect(mine()).toEqual([]);
  });

  it('changes state in one place: gauge, one log line per change, child logger fields', async () => {
    const { lifecycle, lines, current } = setup();
    expect(await current()).toEqual(['starting']);
    lifecycle.set('running', { groupId: 'g' });
    lifecycle.set('running'); // no change, no line
    lifecycle.set('paused', { reason: 'Kafka unavailable' });
    lifecycle.set('running');
    expect(await current()).toEqual(['running']);
    expect(lines.map((l) => [l.level, l.msg, l.from, l.state])).toEqual([
      [30, 'loop running', 'starting', 'running'],
      [40, 'loop paused', 'running', 'paused'],
      [30, 'loop running', 'paused', 'running'],
    ]);
    expect(lines[0]).toMatchObject({ component: 'loop', instance: 'host-1-abc', groupId: 'g' });
  });

  it('a stopping loop only goes on to stopped, and stays there', async () => {
    const { lifecycle, current } = setup();
    lifecycle.set('running');
    lifecycle.set('stopping');
    lifecycle.set('paused');
    lifecycle.set('running');
    expect(lifecycle.state).toBe('stopping');
    lifecycle.set('stopped');
    lifecycle.set('running');
    expect(await current()).toEqual(['stopped']);
  });

  it("its signal follows the caller's signal, and abort() without touching the caller's", () => {
    const caller = new AbortController();
    const a = setup(caller.signal).lifecycle;
    const b = setup(caller.signal).lifecycle;
    a.abort();
    expect([a.signal.aborted, b.signal.aborted, caller.signal.aborted]).toEqual([true, false, false]);
    caller.abort();
    expect(b.signal.aborted).toBe(true);
    const already = setup(AbortSignal.abort()).lifecycle;
    expect(already.signal.aborted).toBe(true);
  });
});
