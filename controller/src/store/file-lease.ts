import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileDurably } from '@fleetroll/shared';
import { z } from 'zod';
import { leaseRecordSchema, type Lease, type LeaseBackend, type LeaseRecord } from './lease.js';

const stored = leaseRecordSchema.extend({ revision: z.number().int() });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The leader lock of a controller without NATS: `<stateDir>/leader.lock`, JSON with the holder's
 * pid and a revision. Enough on one machine, where two controllers share a state dir: a holder
 * whose pid is dead is gone at once, one that stopped renewing is gone after a lease. Not safe
 * across machines (a state dir on NFS): use the NATS store there.
 */
export class FileLeaseBackend implements LeaseBackend {
  readonly path: string;

  constructor(stateDir: string) {
    this.path = join(stateDir, 'leader.lock');
  }

  async read(): Promise<Lease | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const { revision, ...record } = stored.parse(JSON.parse(text));
      return { record, revision };
    } catch {
      // Half written by a process that died creating it: a stranger's, taken over after a lease.
      return { record: undefined, revision: 0 };
    }
  }

  async create(record: LeaseRecord): Promise<number | undefined> {
    let handle;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      handle = await open(this.path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw err;
    }
    try {
      await handle.writeFile(JSON.stringify({ ...record, revision: 1 }));
      await handle.sync();
    } finally {
      await handle.close();
    }
    return 1;
  }

  async update(record: LeaseRecord, revision: number): Promise<number | undefined> {
    const current = await this.read();
    if (!current || current.revision !== revision) return undefined;
    await writeFileDurably(this.path, JSON.stringify({ ...record, revision: revision + 1 }));
    return revision + 1;
  }

  async release(revision: number): Promise<void> {
    const current = await this.read().catch(() => undefined);
    if (current?.revision === revision) await unlink(this.path).catch(() => undefined);
  }

  /** Only a pid on this machine says anything. */
  holderGone(record: LeaseRecord): boolean {
    return record.host === hostname() && record.pid !== process.pid && !processAlive(record.pid);
  }
}
