import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { buildApp, listen } from '../../api/app.js';

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

  protected override configOverrides() {
    return { ...super.configOverrides(), API_PORT: this.flags.port, API_HOST: this.flags.host };
  }

  public async run(): Promise<{ url: string }> {
    const deps = { config: this.appConfig, pool: this.db(), redis: this.redis(), logger: this.logger };
    const api = await buildApp(deps);
    // Registered after the pool and Redis, so it runs before them: the app closes first.
    this.resources.defer('http server', () => api.close());
    const url = await listen(api, this.appConfig.api.host, this.appConfig.api.port);
    this.logger.info(`listening on ${url}`);
    await new Promise<void>((resolve) => {
      if (this.signal.aborted) resolve();
      this.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await api.close();
    this.logger.info('stopped: in-flight requests finished, views flushed');
    return { url };
  }
}
