import { Command, CommanderError } from 'commander';
import { ConfigError, InvalidInputError, asFleetrollError } from '@fleetroll/shared';
import { addAgentsCommand } from './agents.js';
import { addPlanCommand } from './plan.js';
import { addRolloutCommands } from './rollout.js';
import type { Io } from './io.js';

/** Bad input of any kind, so that scripts can tell "asked wrongly" (2) from "failed" (1). */
const EXIT_BAD_INPUT = 2;
const EXIT_FAILURE = 1;
const BAD_INPUT_CODES = new Set(['INVALID_INPUT', 'CONFIG_INVALID', 'UNKNOWN_ROLLOUT']);

function oneLine(message: string): string {
  return message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
}

function exitCodeFor(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) return 0; // --help
    // Commander has already printed the help for a bare `fleetroll`; anything else is reported below.
    if (err.code !== 'commander.help') io.err(`fleetroll: ${oneLine(err.message)}\n`);
    return EXIT_BAD_INPUT;
  }
  const error = asFleetrollError(err);
  io.err(`fleetroll: ${oneLine(error.message)}\n`);
  // The controller's own validation errors arrive as codes, not classes.
  const badInput =
    error instanceof InvalidInputError || error instanceof ConfigError || BAD_INPUT_CODES.has(error.code);
  return badInput ? EXIT_BAD_INPUT : EXIT_FAILURE;
}

/** Runs one `fleetroll` command line (without node and script) and returns the exit status. */
export async function runCli(argv: readonly string[], io: Io): Promise<number> {
  const program = new Command('fleetroll')
    .description('Roll a new app image across a fleet behind HAProxy without dropping a request')
    // Commander's own errors must also become one line and status 2, so they are thrown, not printed.
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: () => undefined,
    });
  let exitCode = 0;
  addPlanCommand(program, io);
  addRolloutCommands(program, io, (code) => (exitCode = code));
  addAgentsCommand(program, io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    return exitCodeFor(err, io);
  }
}
