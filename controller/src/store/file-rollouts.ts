import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { codecs, parseInput, rolloutIdSchema, writeFileDurably, type msg } from '@fleetroll/shared';
import type { RolloutArchive } from '../rollout/store.js';
import { StoreUnavailableError } from './errors.js';
import { StatusEncoders } from './status-encoder.js';

type Status = msg.RolloutStatus__Output;

const SUFFIX = '.rollout.pb';

/**
 * The embedded store, for a controller without NATS: one file per rollout under
 * `<stateDir>/rollouts`, the protobuf RolloutStatus, replaced whole on every change (written to a
 * temp file, fsynced, renamed) so that a crash leaves the previous status or the new one.
 */
export class FileRolloutStore implements RolloutArchive {
  readonly dir: string;
  /** Saves of one rollout are chained: they share the temp file. */
  private readonly queues = new Map<string, Promise<void>>();
  private readonly encoders = new StatusEncoders();

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'rollouts');
  }

  async save(status: Status): Promise<void> {
    const { id, path } = this.file(status.id);
    const bytes = this.encoders.encode(status);
    const write = (this.queues.get(id) ?? Promise.resolve()).then(() =>
      writeFileDurably(path, bytes).catch((err: unknown) => {
        throw new StoreUnavailableError(`cannot write ${path}: ${(err as Error).message}`, { cause: err });
      }),
    );
    const queued = write.catch(() => undefined);
    this.queues.set(id, queued);
    void queued.then(() => {
      if (this.queues.get(id) === queued) this.queues.delete(id);
    });
    return write;
  }

  /** Throws StoreUnavailableError for a file that is not a status: resuming without it could run a rollout twice. */
  async list(): Promise<Status[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreUnavailableError(`cannot read ${this.dir}: ${(err as Error).message}`, { cause: err });
    }
    const files = names.filter((n) => n.endsWith(SUFFIX)).map((n) => join(this.dir, n));
    return Promise.all(files.map((file) => this.read(file)));
  }

  /** After the saves of the rollout still under way: a late one would bring the file back. */
  async remove(rolloutId: string): Promise<void> {
    const { id, path } = this.file(rolloutId);
    await this.queues.get(id);
    await rm(path, { force: true }).catch((err: unknown) => {
      throw new StoreUnavailableError(`cannot delete ${path}: ${(err as Error).message}`, { cause: err });
    });
  }

  close(): Promise<void> {
    return Promise.all(this.queues.values()).then(() => undefined);
  }

  /** The id becomes a file name: checked, so that no id can name a path outside the directory. */
  private file(rolloutId: string): { id: string; path: string } {
    const id = parseInput(rolloutIdSchema, rolloutId, 'rollout id');
    return { id, path: join(this.dir, `${id}${SUFFIX}`) };
  }

  private async read(file: string): Promise<Status> {
    try {
      return codecs.rolloutStatus.decode(await readFile(file));
    } catch (err) {
      throw new StoreUnavailableError(
        `cannot read rollout file ${file} (${(err as Error).message}); move it aside to start without it`,
        { cause: err },
      );
    }
  }
}
