import { ALL_GROUPS } from './plan.js';
import type { RolloutContext } from './context.js';
import { haltRollout, pauseGroups } from './control.js';
import { openGroups } from './status.js';

/** Ansible's rule: the action runs when the failed share is strictly above the limit, never at it. */
export function exceedsMaxFail(failed: number, batchSize: number, maxFailPercent: number): boolean {
  // Compared as failed × 100 > max × size: dividing first would make 1 of 3 at "33.333…%" float-dependent.
  return failed * 100 > maxFailPercent * batchSize;
}

export function batchName(lane: string, index: number): string {
  return lane === ALL_GROUPS ? `batch ${index + 1}` : `batch ${index + 1} of group ${lane}`;
}

/**
 * After a batch: when too many of its hosts failed, runs the spec's failure action. The action is
 * rollout-wide, even when groups run in parallel, because every group gets the same image.
 */
export async function applyFailurePolicy(
  ctx: RolloutContext,
  lane: string,
  index: number,
  hostIds: readonly string[],
): Promise<void> {
  const failed = hostIds.map((id) => ctx.host(id)).filter((h) => h.state === 'HOST_FAILED');
  const { maxFailPercent, failureAction } = ctx.spec;
  if (!exceedsMaxFail(failed.length, hostIds.length, maxFailPercent)) return;
  const why = failed.map((h) => `${h.hostId} (${h.errorCode}: ${h.message})`).join('; ');
  const reason =
    `${batchName(lane, index)}: ${failed.length} of ${hostIds.length} hosts failed, ` +
    `over the ${maxFailPercent}% allowed: ${why}`;
  ctx.log.warn({ lane, batch: index, failed: failed.map((h) => h.hostId), failureAction }, reason);
  switch (failureAction) {
    case 'pause':
      return pauseGroups(ctx, openGroups(ctx.ledger.view), reason);
    case 'abort':
      return haltRollout(ctx, { reason: 'fail', message: reason });
    case 'rollback':
      return haltRollout(ctx, { reason: 'rollback', message: reason });
  }
}
