import { Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process (with Node's default metrics), passed to whatever records
 * metrics. A fresh registry per call keeps tests and several jobs in one process apart.
 */
export function createRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}
