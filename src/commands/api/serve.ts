import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { serveApi } from '../../api/serve.js';

export default class ApiServe extends BaseCommand<typeof ApiServe> {
  static override summary = 'Serve the commerce HTTP API (writes commit with their outbox events).';
  static override description =
    'Runs until SIGTERM/SIGINT, then stops accepting, finishes in-flight requests, flushes buffered views and closes its pools.';
  static override examples = [
    '<%= config.bin %> api serve --port 8080',
    'ADMIN_TOKEN=secret <%= config.bin %> api serve --host 0.0.0.0 --port 0',
  ];
  static override flags = {
    port: Flags.integer({
      summary: 'Port to listen on; 0 picks a free port (env API_PORT).',
      min: 0,
      max: 65535,
    }),
    host: Flags.string({ summary: 'Address to listen on (env API_HOST).' }),
  };

  static override exitCodes = [] as const;

  protected override configOverrides() {
    return { ...super.configOverrides(), API_PORT: this.flags.port, API_HOST: this.flags.host };
  }

  public async run(): Promise<{ url: string }> {
    const { host, port } = this.appConfig.api;
    const deps = { config: this.appConfig, pool: this.db(), redis: this.redis(), logger: this.logger };
    return serveApi(deps, { host, port, signal: this.signal });
  }
}
