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

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/**
 * A duration flag in milliseconds: `800ms`, `30s`, `1.5m`, `1h`; a bare number counts in `bareUnit`.
 * Not given is 0, which the proto reads as "the default" (the controller's or the agent's).
 */
export function durationFlag(bareUnit: 'ms' | 's' = 'ms') {
  return z
    .string()
    .optional()
    .transform((raw, ctx): number => {
      const text = raw?.trim() ?? '';
      if (text === '') return 0;
      const match = DURATION.exec(text);
      const ms = match ? Number(match[1]) * (UNIT_MS[match[2] ?? bareUnit] ?? 1) : NaN;
      if (Number.isInteger(ms)) return ms;
      ctx.addIssue({
        code: 'custom',
        input: raw,
        message: match
          ? `${JSON.stringify(raw)} is not a whole number of milliseconds`
          : `${JSON.stringify(raw)} is not a duration (e.g. 800ms, 30s, 2m)`,
      });
      return z.NEVER;
    });
}

/** A duration flag the proto carries in whole seconds (`docker stop --time`): `10` and `10s` are the same. */
export const secondsFlag = durationFlag('s').transform((ms, ctx): number => {
  if (ms % 1_000 === 0) return ms / 1_000;
  ctx.addIssue({ code: 'custom', input: ms, message: `${ms} ms is not a whole number of seconds` });
  return z.NEVER;
});

/** Batch numbers, comma-separated (`1` or `1,3`); not given is none. The controller checks the range. */
export const batchNumbersFlag = z
  .string()
  .optional()
  .transform((raw, ctx): number[] => {
    const text = raw?.trim() ?? '';
    if (text === '') return [];
    const parts = text.split(',').map((p) => p.trim());
    if (parts.every((p) => /^\d+$/.test(p))) return parts.map(Number);
    ctx.addIssue({
      code: 'custom',
      input: raw,
      message: `${JSON.stringify(raw)} is not a list of batch numbers (e.g. 1 or 1,3)`,
    });
    return z.NEVER;
  });

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
