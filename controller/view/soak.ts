import type { msg } from '@fleetroll/shared';

/**
 * Batches that ended and wait out the rollout's soak before their hosts are checked again: the
 * next batch of their group has not begun. Nothing else would say why the rollout does not move.
 */
export function soakingBatches(status: msg.RolloutStatus__Output, now: number): msg.BatchStatus__Output[] {
  const soakMs = status.request?.soakMs ?? 0;
  if (soakMs === 0 || status.state !== 'ROLLOUT_RUNNING') return [];
  const next = (b: msg.BatchStatus__Output) =>
    status.batches.find((x) => x.group === b.group && x.index === b.index + 1);
  return status.batches.filter(
    (b) => b.finishedAtMs > 0 && !(next(b)?.startedAtMs ?? 0) && b.finishedAtMs + soakMs > now,
  );
}
