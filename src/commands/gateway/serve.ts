import { Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { parseDurationRange, parseRate } from '../../gateway/options.js';
import { serveGateway } from '../../gateway/serve.js';

const rate = Flags.custom<number>({
  helpValue: '<0..1>',
  parse: async (input) => usage(() => parseRate(input)),
});
const range = Flags.custom({
  helpValue: '<duration[-duration]>',
  parse: async (input: string) => usage(() => parseDurationRange(input)),
});

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export default class GatewayServe extends BaseCommand<typeof GatewayServe> {
  static override summary =
    'Run the payment gateway simulator: a real HTTP peer that fails, hangs and loses callbacks on purpose.';
  static override description =
    'State is in memory only (it is a simulator). Callbacks are signed with GATEWAY_SECRET. Runs until SIGTERM/SIGINT.';
  static override examples = [
    'GATEWAY_SECRET=s <%= config.bin %> gateway serve --port 8090',
    'GATEWAY_SECRET=s <%= config.bin %> gateway serve --port 0 --failure-rate 0.3 --callback-loss-rate 0.2 --seed demo',
  ];
  static override flags = {
    port: Flags.integer({
      summary: 'Port to listen on; 0 picks a free port.',
      min: 0,
      max: 65535,
      default: 8090,
    }),
    host: Flags.string({ summary: 'Address to listen on.', default: '127.0.0.1' }),
    'failure-rate': rate({
      summary: 'Share of POST /payments and /refunds that fail: a 500, a hang or a reset connection.',
      default: 0,
    }),
    latency: range({
      summary: 'Time before each answer: 50ms, or a range 20ms-200ms.',
      default: parseDurationRange('10ms-50ms'),
      defaultHelp: async () => '10ms-50ms',
    }),
    'settle-delay': range({
      summary: 'Time from a charge to its settlement and callback: 2s, or 1s-3s.',
      default: parseDurationRange('1s-3s'),
      defaultHelp: async () => '1s-3s',
    }),
    'success-rate': rate({
      summary: 'Share of payments settled SUCCESS (the rest FAILED with a reason).',
      default: 0.8,
    }),
    'callback-loss-rate': rate({ summary: 'Share of callbacks never sent.', default: 0 }),
    'callback-duplicate-rate': rate({ summary: 'Share of callbacks sent twice.', default: 0.1 }),
    seed: Flags.string({
      summary: 'Makes every random choice reproducible (a function of seed, paymentId, request number).',
    }),
  };

  static override exitCodes = [] as const;

  public async run(): Promise<{ url: string; stats: unknown }> {
    const f = this.flags;
    return serveGateway(
      {
        host: f.host,
        port: f.port,
        failureRate: f['failure-rate'],
        latency: f.latency,
        settleDelay: f['settle-delay'],
        successRate: f['success-rate'],
        callbackLossRate: f['callback-loss-rate'],
        callbackDuplicateRate: f['callback-duplicate-rate'],
        seed: f.seed,
        secret: this.appConfig.gateway.secret,
      },
      { logger: this.logger, signal: this.signal },
    );
  }
}
