import type { z } from 'zod';
import { InvalidInputError } from './errors.js';

/** One line that names every offending field, e.g. `slots.0.server: Required; hostId: ...`. */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Validates input at a boundary; what it returns can be trusted from then on. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(`${what}: ${formatZodError(result.error)}`);
  return result.data;
}
