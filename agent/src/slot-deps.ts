import type { Logger } from '@fleetroll/shared';
import type { SlotJournalEntry } from './journal.js';
import type { ContainerRuntime, LoadBalancer } from './ports.js';

/** The journal as the slot workflow sees it; the real one is journal.ts. */
export interface SlotJournal {
  record(entry: SlotJournalEntry): Promise<void>;
  clear(slot: string): Promise<void>;
}

export interface SlotDeps {
  lb: LoadBalancer;
  runtime: ContainerRuntime;
  journal: SlotJournal;
  log: Logger;
  /** How often HAProxy and Docker are polled while draining and verifying. */
  pollMs: number;
}
