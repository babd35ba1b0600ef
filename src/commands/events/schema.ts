import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../../lib/cli/base-command.js';
import { UsageError } from '../../lib/errors.js';
import { EVENT_TYPES } from '../../lib/events/index.js';
import { asyncApiDocument } from '../../lib/events/asyncapi.js';
import { eventSchema, type JsonSchema } from '../../lib/events/published.js';

export default class EventsSchema extends BaseCommand<typeof EventsSchema> {
  static override summary = "An event type's payload schema (JSON Schema draft 2020-12).";
  static override description =
    'The schema of TYPE at --version (default: the current version), as published under ' +
    'schemas/events/<TYPE>/v<N>.json; without TYPE, the AsyncAPI document of the topics ' +
    '(schemas/asyncapi.json). Exit 2 for an unknown type or version.';
  static override examples = [
    '<%= config.bin %> events schema OrderCreated',
    '<%= config.bin %> events schema OrderCreated --version 1',
    '<%= config.bin %> events schema > asyncapi.json',
  ];
  static override args = {
    type: Args.string({ required: false, description: `The event type: ${EVENT_TYPES.join(', ')}.` }),
  };
  static override flags = {
    version: Flags.integer({ summary: 'The schema version (default: the current one).' }),
  };

  static override exitCodes = [] as const;

  public async run(): Promise<JsonSchema> {
    if (this.args.type === undefined && this.flags.version !== undefined)
      throw new UsageError('--version needs a TYPE');
    const schema =
      this.args.type === undefined ? asyncApiDocument() : eventSchema(this.args.type, this.flags.version);
    if (!this.jsonEnabled()) this.log(JSON.stringify(schema, null, 2));
    return schema;
  }
}
