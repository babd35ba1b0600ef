import { CommandHelp, Help, type Command, type HelpSection } from '@oclif/core';
import { ExitCode } from '../errors.js';
import { EXIT_CODES, commandExitCodes, type ExitCodeName } from './exit-codes.js';

/**
 * oclif's help with one more section, EXIT CODES: the codes the command can return (its static
 * `exitCodes` plus those of every command) with their meanings from the one table (exit-codes.ts), as
 * Salesforce CLI's `errorCodes` help section does. Wired in package.json (`oclif.helpClass`); the
 * generated pages under docs/commands/ are rendered by this class too, so they match `--help`.
 */
export class CommerceCommandHelp extends CommandHelp {
  protected override sections() {
    return [
      ...super.sections(),
      { header: 'EXIT CODES', generate: () => exitCodesSection(this.command.exitCodes) },
    ];
  }
}

export function exitCodesSection(declared: unknown): HelpSection {
  const names = Array.isArray(declared) ? (declared as ExitCodeName[]) : [];
  return {
    header: 'EXIT CODES',
    body: commandExitCodes(names).map((name) => [String(ExitCode[name]), EXIT_CODES[name].meaning]),
  };
}

export default class CommerceHelp extends Help {
  protected override CommandHelpClass = CommerceCommandHelp;

  /** A command's help text, as `--help` prints it (for the generated pages). */
  public commandHelp(command: Command.Loadable): string {
    return this.formatCommand(command);
  }
}
