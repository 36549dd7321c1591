import type { Logger } from '@fleetroll/shared';
import type { SlotJournalEntry } from './journal.js';
import type { ContainerRuntime, LoadBalancer } from './ports.js';

/** The journal as the slot workflow sees it; the real one is journal.ts. */
export interface SlotJournal {
  record(entry: SlotJournalEntry): Promise<void>;
  clear(slot: string): Promise<void>;
}

/** Polling HAProxy and Docker every 50 ms keeps the weight-0 window tight at negligible cost. */
export const POLL_MS = 50;

export interface SlotDeps {
  lb: LoadBalancer;
  runtime: ContainerRuntime;
  journal: SlotJournal;
  log: Logger;
  /** How often HAProxy and Docker are polled while draining and verifying. */
  pollMs: number;
  /**
   * How often the weight is looked at while the containers are replaced (heldAtZero); pollMs when
   * unset. Nothing waits on this poll: it only catches a reload.
   */
  holdPollMs?: number;
}
