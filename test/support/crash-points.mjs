// Preloaded into a CLI a test starts (NODE_OPTIONS=--import=<this file>, see crashAt in cli.ts):
// SIGKILLs the process the first time the diagnostics channel named by CRASH_POINT publishes, e.g.
// commerce:collector:db-committed (src/jobs/collector/probes.ts). The shipped program has no crash
// switch of its own; only a process a test starts this way can crash there.
import { subscribe } from 'node:diagnostics_channel';

const point = process.env.CRASH_POINT;
if (point) subscribe(point, () => process.kill(process.pid, 'SIGKILL'));
