import { Command, Flags, type Interfaces } from '@oclif/core';
import type pg from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka } from 'kafkajs';
import { loadConfig } from '../config/load.js';
import type { AppConfig } from '../config/config.js';
import type { EnvName } from '../config/env.js';
import { CliError, ExitCode } from '../errors.js';
import { createLogger, type Logger } from '../log.js';
import { ResourceStack } from '../resources.js';
import { Clients } from './clients.js';
import { checkBooleanEnv } from './boolean-env.js';
import { classify, type ExitCodeName } from './exit-codes.js';
import { renderTable, type Column } from './table.js';
import { createProgress, type Progress } from './progress.js';
import { armShutdownDeadline, exitIfLeaked, forceStop } from './shutdown.js';

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<
  (typeof BaseCommand)['baseFlags'] & T['flags']
>;
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>;

/**
 * Every command extends this. It owns: configuration (environment, overridden by flags), the logger,
 * `--json`, SIGINT/SIGTERM (an AbortSignal the jobs watch, with a deadline; a second signal or the
 * deadline forces every loop's stop, lib/loop.ts: shutdown.ts),
 * the lazily opened clients (clients.ts), their release in reverse order, and printing errors with
 * their exit code (exit-codes.ts).
 */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true;

  /**
   * The exit codes this command can return beyond every command's (exit-codes.ts: EXIT_CODES): each
   * command declares its own (even `[]`); `--help` and docs/commands/ list them with their meanings.
   */
  declare static exitCodes: readonly ExitCodeName[];

  static override baseFlags = {
    'database-url': Flags.string({ helpGroup: 'GLOBAL', summary: 'PostgreSQL URL (env DATABASE_URL).' }),
    'redis-url': Flags.string({ helpGroup: 'GLOBAL', summary: 'Redis URL (env REDIS_URL).' }),
    'kafka-brokers': Flags.string({
      helpGroup: 'GLOBAL',
      summary: 'Comma-separated Kafka brokers host:port (env KAFKA_BROKERS).',
    }),
    'log-level': Flags.string({
      helpGroup: 'GLOBAL',
      summary: 'Log level (env LOG_LEVEL).',
      options: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
    }),
  };

  protected flags!: BaseFlags<T>;
  protected args!: BaseArgs<T>;
  protected appConfig!: AppConfig;
  protected logger!: Logger;
  protected readonly resources = new ResourceStack();
  private readonly abort = new AbortController();
  private clients!: Clients;
  private active?: { progress: Progress; failure?: string };

  /** Aborted on the first SIGINT/SIGTERM: long-running work stops claiming, finishes its batch, returns. */
  protected get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Flag values that override environment variables; commands add their own by overriding. */
  protected configOverrides(): Partial<Record<EnvName, string | number | undefined>> {
    return {
      DATABASE_URL: this.flags['database-url'],
      REDIS_URL: this.flags['redis-url'],
      KAFKA_BROKERS: this.flags['kafka-brokers'],
      LOG_LEVEL: this.flags['log-level'],
    };
  }

  public override async init(): Promise<void> {
    await super.init();
    checkBooleanEnv(this.ctor.flags, process.env);
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    });
    this.flags = flags as BaseFlags<T>;
    this.args = args as BaseArgs<T>;
    this.appConfig = loadConfig(process.env, this.configOverrides());
    this.logger = createLogger(this.appConfig.logLevel, { name: this.id ?? 'commerce' });
    this.clients = new Clients(this.appConfig, this.logger, this.resources);
    this.installSignalHandlers();
  }

  private installSignalHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.abort.signal.aborted) {
        // Forced: the loops abandon their work in flight and give back what they hold (a relay its
        // leases, within RELEASE_GRACE_MS), then exit 130; a third signal exits at once.
        this.logger.warn({ signal }, 'second signal: forcing the stop');
        void forceStop(this.logger, ExitCode.FORCED);
        return;
      }
      this.logger.info(
        { signal, deadlineMs: this.appConfig.shutdownTimeoutMs },
        'shutting down: finishing the current batch',
      );
      armShutdownDeadline(this.appConfig.shutdownTimeoutMs, this.logger, () => ({
        command: this.id,
        waitingFor: this.resources.releasing
          ? `release of ${this.resources.releasing}`
          : 'the command to return',
      }));
      this.abort.abort(signal);
    };
    // `on`, not `once`: a second signal must reach onSignal (forced stop), not Node's default handler.
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    this.resources.defer('signal handlers', () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
  }

  /** The PostgreSQL pool, opened on first use and closed on exit. */
  protected db(): pg.Pool {
    return this.clients.db();
  }

  /** The Redis client, opened on first use and closed on exit. */
  protected redis(): Redis {
    return this.clients.redis();
  }

  protected kafka(): Kafka {
    return this.clients.kafka();
  }

  /** The shared clients in the shape jobs take (each opened on first use, released on exit). */
  protected deps() {
    return {
      config: this.appConfig,
      pool: this.db(),
      redis: this.redis(),
      kafka: this.kafka(),
      logger: this.logger,
      signal: this.signal,
    };
  }

  /** Prints rows as a table for people; prints nothing under --json (the result is the output). */
  protected table<R>(rows: R[], columns: Column<R>[], title?: string): void {
    if (this.jsonEnabled()) return;
    if (title) this.log(title);
    this.log(rows.length === 0 ? '(none)' : renderTable(rows, columns));
  }

  /**
   * A spinner on a terminal, heartbeat log lines elsewhere, nothing on stdout or under --json. If the
   * command fails, catch() fails the spinner (with `failure`, when given) before printing the error.
   */
  protected progress(text: string, failure?: string): Progress {
    const progress = createProgress({ interactive: !this.jsonEnabled(), logger: this.logger, text });
    this.active = { progress, failure };
    return progress;
  }

  protected override async catch(err: Error & { exitCode?: number }): Promise<void> {
    this.active?.progress.fail(this.active.failure);
    const { code, exitCode, message } = classify(err, this.appConfig?.kafka.brokers);
    process.exitCode = exitCode;
    if (this.jsonEnabled()) {
      this.logJson({ error: { code, message, exitCode } });
    } else {
      process.stderr.write(`Error: ${message}\n`);
    }
    if (exitCode === ExitCode.FAILURE && !(err instanceof CliError) && this.logger) {
      this.logger.debug({ err }, 'unexpected error');
    }
  }

  protected override async finally(err: Error | undefined): Promise<void> {
    await this.resources.releaseAll(this.logger);
    await super.finally(err);
    exitIfLeaked(this.logger);
  }
}
