import { Flags } from '@oclif/core';
import { BaseCommand } from '../lib/cli/base-command.js';
import { runDev, type DevResult } from '../jobs/dev/run.js';

export default class Dev extends BaseCommand<typeof Dev> {
  static override summary =
    'Run the API, a relay and a collector in one process (small deployments, local work).';
  static override description =
    'Same guarantees as api serve + relay run + collector run. On SIGTERM/SIGINT the API stops first ' +
    '(in-flight requests finish, views are flushed), then the relay marks its batch, then the collector ' +
    'commits its batch and leaves its group; exit 0.';
  static override examples = [
    'ADMIN_TOKEN=secret <%= config.bin %> dev --port 8080',
    '<%= config.bin %> dev --port 0 --group commerce-dev',
  ];
  static override flags = {
    port: Flags.integer({ summary: 'API port; 0 picks a free port (env API_PORT).', min: 0, max: 65535 }),
    host: Flags.string({ summary: 'API address (env API_HOST).' }),
    group: Flags.string({ summary: "The collector's consumer group (env KAFKA_GROUP_ID)." }),
  };

  static override exitCodes = ['UNAVAILABLE'] as const;

  protected override configOverrides() {
    return {
      ...super.configOverrides(),
      API_PORT: this.flags.port,
      API_HOST: this.flags.host,
      KAFKA_GROUP_ID: this.flags.group,
    };
  }

  public async run(): Promise<DevResult> {
    const result = await runDev(this.deps());
    this.log(`dev stopped: ${result.published ?? '?'} event(s) published, ${result.consumed} consumed.`);
    return result;
  }
}
