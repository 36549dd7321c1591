import { asFleetrollError, type AgentConfig } from '@fleetroll/shared';
import type { Journal } from './journal.js';
import { finishSlot, rollBackSlot } from './repair.js';
import type { SlotDeps } from './slot-deps.js';

export interface RecoveredSlot {
  slot: string;
  rolloutId: string;
  action: 'finished' | 'rolled-back' | 'failed';
  message: string;
}

/**
 * Runs before the agent serves anything: every slot the journal shows in flight
 * is finished (if its new container had already been verified) or rolled back,
 * and its weight restored. A slot that was only draining simply gets its weight back.
 */
export async function recoverFromJournal(
  journal: Journal,
  config: AgentConfig,
  deps: SlotDeps,
): Promise<RecoveredSlot[]> {
  const entries = await journal.load();
  const results: RecoveredSlot[] = [];
  for (const entry of entries) {
    const log = deps.log.child({ slot: entry.slot, rolloutId: entry.rolloutId });
    const slot = config.slots.find((s) => s.id === entry.slot);
    if (!slot) {
      log.error('journal names a slot that is no longer in the config; dropping the entry');
      await journal.clear(entry.slot);
      results.push({
        slot: entry.slot,
        rolloutId: entry.rolloutId,
        action: 'failed',
        message: 'slot not in config',
      });
      continue;
    }
    try {
      if (entry.phase === 'restoring') {
        await finishSlot(entry, slot, deps);
        results.push({
          ...ids(entry),
          action: 'finished',
          message: `${slot.container} kept on ${entry.image}`,
        });
      } else {
        await rollBackSlot(entry, slot, deps, config.defaults);
        results.push({ ...ids(entry), action: 'rolled-back', message: `${entry.oldName} serves again` });
      }
      log.warn({ phase: entry.phase }, `recovered slot interrupted while ${entry.phase}`);
    } catch (err) {
      const error = asFleetrollError(err);
      log.error({ code: error.code, err }, `recovery of slot failed: ${error.message}`);
      results.push({ ...ids(entry), action: 'failed', message: error.message });
    }
  }
  return results;
}

function ids(entry: { slot: string; rolloutId: string }): { slot: string; rolloutId: string } {
  return { slot: entry.slot, rolloutId: entry.rolloutId };
}
