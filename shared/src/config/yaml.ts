import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { formatZodError } from '../validate.js';

/**
 * Every YAML file fleetroll reads (agent config, controller config, inventory)
 * fails the same way: one line that names the file and the field.
 */
export function parseYamlConfig<S extends z.ZodType>(
  text: string,
  source: string,
  schema: S,
  expected?: string,
): z.output<S> {
  let raw: unknown;
  try {
    // Warnings (e.g. unknown tags) would reach stderr as extra lines; anything that matters fails the schema.
    raw = parseYaml(text, { logLevel: 'error' });
  } catch (err) {
    // The yaml package appends a multi-line code excerpt; its first line already has line and column.
    const firstLine = (err as Error).message.split('\n')[0] ?? '';
    throw new ConfigError(`${source}: not valid YAML: ${firstLine.replace(/:$/, '')}`);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError(`${source}: is empty${expected ? ` (expected ${expected})` : ''}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) throw new ConfigError(`${source}: ${formatZodError(result.error)}`);
  return result.data;
}

const READ_ERRORS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'is a directory',
};

export async function loadYamlConfig<S extends z.ZodType>(
  path: string,
  what: string,
  schema: S,
  expected?: string,
): Promise<z.output<S>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError(`cannot read ${what} ${path}: ${READ_ERRORS[code] ?? code}`);
  }
  return parseYamlConfig(text, path, schema, expected);
}
