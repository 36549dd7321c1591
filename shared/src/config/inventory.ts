import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { nameSchema } from '../names.js';
import { formatZodError } from '../validate.js';

const ENDPOINT = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):([0-9]{1,5})$/;

function isEndpoint(value: string): boolean {
  const port = Number(ENDPOINT.exec(value)?.[1] ?? 0);
  return port >= 1 && port <= 65_535;
}

export const inventoryHostSchema = z.strictObject({
  // The same pattern as an agent's hostId, because the two must be equal for the agent to be found.
  id: nameSchema,
  groups: z.array(nameSchema).default([]),
  grpc: z
    .string()
    .refine(isEndpoint, 'must be host:port with a port of 1-65535, e.g. 10.0.0.11:7070')
    .optional(),
});

type Path = readonly (string | number)[];

/** Reports each repeat as `<path>: duplicates <first path> (<value>)`, pointing the operator at both lines. */
function flagDuplicates(ctx: z.RefinementCtx, entries: readonly (readonly [Path, string])[]): void {
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

export const inventorySchema = z
  .strictObject({
    hosts: z.array(inventoryHostSchema).min(1, 'an inventory needs at least one host'),
  })
  .superRefine((inv, ctx) => {
    flagDuplicates(
      ctx,
      inv.hosts.map((h, i) => [['hosts', i, 'id'], h.id]),
    );
    // Two entries that reach the same agent would roll one machine twice as if it were two.
    flagDuplicates(
      ctx,
      inv.hosts.flatMap((h, i) => (h.grpc === undefined ? [] : [[['hosts', i, 'grpc'], h.grpc] as const])),
    );
    inv.hosts.forEach((h, i) =>
      flagDuplicates(
        ctx,
        h.groups.map((g, j) => [['hosts', i, 'groups', j], g]),
      ),
    );
  });

export type Inventory = z.infer<typeof inventorySchema>;
export type InventoryHost = z.infer<typeof inventoryHostSchema>;

/** `source` names the file in every message, e.g. `inventory.yml: hosts.3.id: duplicates hosts.1.id (fe-02)`. */
export function parseInventory(text: string, source: string): Inventory {
  let raw: unknown;
  try {
    // Warnings (e.g. unknown tags) would reach stderr as extra lines; anything that matters fails the schema.
    raw = parseYaml(text, { logLevel: 'error' });
  } catch (err) {
    // The yaml package appends a multi-line code excerpt; its first line already has line and column.
    const firstLine = (err as Error).message.split('\n')[0] ?? '';
    throw new ConfigError(`${source}: not valid YAML: ${firstLine.replace(/:$/, '')}`);
  }
  if (raw === null || raw === undefined)
    throw new ConfigError(`${source}: is empty (expected a "hosts:" list)`);
  const result = inventorySchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`${source}: ${formatZodError(result.error)}`);
  return result.data;
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

export async function loadInventory(path: string): Promise<Inventory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`cannot read inventory ${path}: ${READ_ERRORS[code] ?? code}`);
  }
  return parseInventory(text, path);
}
