import { rename, unlink, writeFile } from 'node:fs/promises';
import { HaproxyStateFileError, HaproxyUnknownServerError } from '@fleetroll/shared';
import { excerpt } from './excerpt.js';
import { serverRef } from './names.js';

// `show servers state` answers in the format `server-state-file` reads back: a version line, a
// header naming the columns, one line per server. Version 1 is the one HAProxy 1.6–3.x writes.
const FORMAT_VERSION = '1';

export interface WeightChange {
  backend: string;
  server: string;
  weight: number;
}

/**
 * The dump of `show servers state`, checked, with the user weight (`srv_uweight`) of the server a
 * change names set to the weight about to be set: a reload between this file and `set weight`
 * then starts at that weight rather than at the one being left.
 */
export function stateWithWeight(dump: string, change: WeightChange): string {
  const lines = dump.replace(/\s+$/, '').split('\n');
  const [version, header] = lines;
  if (version !== FORMAT_VERSION || !header?.startsWith('# ')) {
    throw new HaproxyStateFileError(
      `HAProxy's server state is not in format ${FORMAT_VERSION}: ${excerpt(lines.slice(0, 2).join(' | '))}`,
    );
  }
  const columns = header.slice(2).split(' ');
  const at = (name: string): number => {
    const i = columns.indexOf(name);
    if (i < 0) throw new HaproxyStateFileError(`HAProxy's server state has no column ${name}`);
    return i;
  };
  const [be, srv, uweight] = [at('be_name'), at('srv_name'), at('srv_uweight')];
  let found = false;
  const edited = lines.map((line, n) => {
    const fields = line.split(' ');
    if (n < 2 || fields[be] !== change.backend || fields[srv] !== change.server) return line;
    found = true;
    fields[uweight] = String(change.weight);
    return fields.join(' ');
  });
  if (!found) {
    throw new HaproxyUnknownServerError(
      `HAProxy's server state has no server ${serverRef(change.backend, change.server)}`,
    );
  }
  return `${edited.join('\n')}\n`;
}

/** The temporary file a replacement of `path` is written to first, in the same directory. */
const besideFile = (path: string): string => `${path}.${process.pid}.tmp`;

/**
 * Replaces the file in one step (a temporary file beside it, then rename): an HAProxy starting
 * meanwhile reads the old state or the new, never half of one.
 */
export async function writeStateFile(path: string, text: string): Promise<void> {
  const temporary = besideFile(path);
  try {
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, path);
  } catch (err) {
    await unlink(temporary).catch(() => undefined);
    throw new HaproxyStateFileError(
      `cannot write HAProxy's server state to ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/**
 * Whether the file could be replaced as writeStateFile does, without touching it: HAProxy may read
 * it at any moment, and the agent may start before HAProxy answers for a dump.
 */
export async function checkStateFileWritable(path: string): Promise<void> {
  const probe = besideFile(path);
  try {
    await writeFile(probe, '');
  } catch (err) {
    throw new HaproxyStateFileError(
      `cannot write HAProxy's server state beside ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}
