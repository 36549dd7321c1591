import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JournalError, writeFileDurably } from '@fleetroll/shared';

/**
 * Where a slot stood when it last changed anything outside the agent. Written
 * BEFORE each action, so that after a SIGKILL the agent knows what it may have
 * done and can put the slot back together.
 */
export type SlotPhase =
  /** Weight read and about to be (or already) set to 0; the old container is untouched. */
  | 'draining'
  /** The old container may be stopped and renamed aside; a new one may exist. */
  | 'replacing'
  /** The new container was verified healthy; only weight restore and cleanup remain. */
  | 'restoring'
  /** A failure is being undone: the new container goes, the old one comes back. */
  | 'rolling-back';

export interface SlotJournalEntry {
  slot: string;
  rolloutId: string;
  image: string;
  phase: SlotPhase;
  /** The weight read before draining: the one to restore. */
  weight: number;
  oldId: string;
  oldName: string;
  asideName: string;
  newId?: string;
}

type JournalFile = { version: 1; slots: Record<string, SlotJournalEntry> };

export class Journal {
  private readonly path: string;
  private state: JournalFile = { version: 1, slots: {} };
  /** Writes are chained so that two slots never interleave a rename. */
  private queue: Promise<void> = Promise.resolve();

  constructor(dir: string) {
    this.path = join(dir, 'journal.json');
  }

  /** Reads what a previous run left behind; an absent file means a clean stop. */
  async load(): Promise<SlotJournalEntry[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new JournalError(`cannot read journal ${this.path}: ${(err as Error).message}`, { cause: err });
    }
    try {
      const parsed = JSON.parse(text) as JournalFile;
      if (parsed.version !== 1 || typeof parsed.slots !== 'object') throw new Error('unknown format');
      this.state = parsed;
    } catch (err) {
      throw new JournalError(
        `journal ${this.path} is corrupt (${(err as Error).message}); inspect the slots by hand, then delete it`,
        { cause: err },
      );
    }
    return Object.values(this.state.slots);
  }

  record(entry: SlotJournalEntry): Promise<void> {
    this.state.slots[entry.slot] = { ...entry };
    return this.flush();
  }

  clear(slot: string): Promise<void> {
    delete this.state.slots[slot];
    return this.flush();
  }

  private flush(): Promise<void> {
    const snapshot = JSON.stringify(this.state);
    // A failed write must not poison the writes queued after it.
    const write = this.queue.catch(() => undefined).then(() => this.writeDurably(snapshot));
    this.queue = write;
    return write;
  }

  private async writeDurably(text: string): Promise<void> {
    try {
      await writeFileDurably(this.path, text);
    } catch (err) {
      throw new JournalError(`cannot write journal ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
