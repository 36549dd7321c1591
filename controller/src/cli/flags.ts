import { z } from 'zod';
import { InvalidInputError, formatZodError } from '@fleetroll/shared';

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
