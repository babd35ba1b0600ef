import { Counter, Gauge, type Registry } from 'prom-client';
import type { Queryable } from '../../../lib/db/query.js';
import { slotLag } from '../../../lib/outbox/cdc/slot.js';

export interface CdcMetrics {
  slotLost: Counter;
  standby: Gauge;
  /** Set by the relay to the stream's lag getter while a session runs. */
  lagSeconds: { source?: () => number };
}

/**
 * The CDC relay's own gauges, read at scrape time: the slot's lag in bytes (unconfirmed WAL, and WAL
 * it keeps from being recycled: what fills the disk if the relay stalls) from pg_replication_slots,
 * and in seconds from the stream (age of the oldest commit received and not yet confirmed).
 * deploy/prometheus alerts on both (RelayCdcSlotLag*).
 */
export function createCdcMetrics(registry: Registry, db: Queryable, slot: string): CdcMetrics {
  const registers = [registry];
  const lagSeconds: CdcMetrics['lagSeconds'] = {};
  new Gauge({
    name: 'relay_cdc_slot_lag_bytes',
    help: 'WAL bytes between the server position and the CDC slot confirmed position (what a restart streams again at most).',
    labelNames: ['slot'],
    registers,
    async collect() {
      const lag = await slotLag(db, slot).catch(() => undefined);
      if (lag) this.set({ slot }, lag.lagBytes);
    },
  });
  new Gauge({
    name: 'relay_cdc_slot_retained_wal_bytes',
    help: 'WAL bytes the CDC slot keeps PostgreSQL from recycling (server position minus restart_lsn).',
    labelNames: ['slot'],
    registers,
    async collect() {
      const lag = await slotLag(db, slot).catch(() => undefined);
      if (lag) this.set({ slot }, lag.retainedBytes);
    },
  });
  new Gauge({
    name: 'relay_cdc_slot_lag_seconds',
    help: 'Age of the oldest commit the CDC relay received and has not confirmed yet (0 when caught up).',
    labelNames: ['slot'],
    registers,
    collect() {
      this.set({ slot }, lagSeconds.source?.() ?? 0);
    },
  });
  return {
    slotLost: new Counter({
      name: 'relay_cdc_slot_lost_total',
      help: 'Times the CDC slot was found dropped or invalidated: the relay published by the polling claim, then made a new slot.',
      registers,
    }),
    standby: new Gauge({
      name: 'relay_cdc_standby',
      help: '1 while this CDC relay waits because another relay owns the slot.',
      registers,
    }),
    lagSeconds,
  };
}
