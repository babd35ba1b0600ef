import { BaseCommand } from '../lib/cli/base-command.js';
import { durationFlag } from '../lib/cli/flags.js';
import { ExitCode } from '../lib/errors.js';
import { DEFAULT_CHECK_TIMEOUT_MS, runDoctor, type DoctorReport } from '../jobs/doctor/doctor.js';

export default class Doctor extends BaseCommand<typeof Doctor> {
  static override summary =
    'Check everything the pipeline needs, one line each: OK, WARN or FAIL, with the fix.';
  static override description =
    'PostgreSQL (reachable, version, migrations, wal_level, clock skew), Redis (reachable, eviction ' +
    'policy), Kafka (reachable, every topic with partitions, RF and min.insync.replicas, consumer groups ' +
    'and their lag in messages and seconds, dead letters), the outbox (relays alive, oldest PENDING row, ' +
    'FAILED rows), unsettled payments past the recovery period, and each batch job against its schedule. ' +
    'Every check family has its own timeout: a service down is a FAIL naming it, never a hang. Reads only. ' +
    'Exit 0 when nothing FAILs (WARNs included), 1 when a check FAILs.';
  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --json',
    '<%= config.bin %> doctor --timeout 5s',
  ];
  static override flags = {
    timeout: durationFlag({
      summary: `How long each family of checks may take before it FAILs (default ${DEFAULT_CHECK_TIMEOUT_MS}ms).`,
    }),
  };

  static override exitCodes = [] as const;

  public async run(): Promise<DoctorReport> {
    const report = await runDoctor({
      config: this.appConfig,
      logger: this.logger,
      timeoutMs: this.flags.timeout,
    });
    for (const c of report.checks) {
      this.log(`${c.status.padEnd(4)}  ${c.name}: ${c.detail}${c.fix ? `\n      fix: ${c.fix}` : ''}`);
    }
    const { OK, WARN, FAIL } = report.counts;
    this.log(`\n${OK} OK, ${WARN} WARN, ${FAIL} FAIL in ${report.durationMs} ms`);
    if (report.status === 'FAIL') process.exitCode = ExitCode.FAILURE; // the report is the output
    return report;
  }
}
