import type { Command } from 'commander';
import { z } from 'zod';
import { InvalidInputError, formatZodError } from '@fleetroll/shared';
import { DEFAULT_CONTROLLER } from './controller-api.js';

/** The --controller option of every command that talks to the controller. */
export function withController(command: Command): Command {
  return command.option(
    '--controller <host:port,...>',
    'controller API address, or the leader and its standbys, comma-separated (env FLEETROLL_CONTROLLER)',
    DEFAULT_CONTROLLER,
  );
}

function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Validates commander's option values, naming each problem by its flag: `--serial: "120%" is over 100%`. */
export function parseFlags<S extends z.ZodType>(schema: S, options: unknown): z.output<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const [key, ...rest] = issue.path;
    return { ...issue, path: key === undefined ? [] : [flagName(key), ...rest] };
  });
  throw new InvalidInputError(formatZodError(new z.ZodError(issues)));
}
