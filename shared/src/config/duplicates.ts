import type { z } from 'zod';

type Path = readonly (string | number)[];

/** Reports each repeat as `<path>: duplicates <first path> (<value>)`, pointing the operator at both lines. */
export function flagDuplicates(ctx: z.RefinementCtx, entries: readonly (readonly [Path, string])[]): void {
  const first = new Map<string, string>();
  for (const [path, value] of entries) {
    const earlier = first.get(value);
    if (earlier === undefined) first.set(value, path.join('.'));
    else
      ctx.addIssue({
        code: 'custom',
        input: value,
        path: [...path],
        message: `duplicates ${earlier} (${value})`,
      });
  }
}
