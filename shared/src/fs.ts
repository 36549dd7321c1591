import { mkdir, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Write-to-temp, fsync, rename, fsync the directory: a crash leaves either the old or the new file,
 * never half of one, and a file that was said to be written is still there after a power cut.
 * Callers that write the same path concurrently must chain their writes (they share the temp file).
 */
export async function writeFileDurably(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = `${path}.tmp`;
  await mkdir(dir, { recursive: true });
  const handle = await open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
