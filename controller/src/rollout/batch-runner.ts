import pLimit, { type LimitFunction } from 'p-limit';
import type { RolloutContext } from './context.js';
import { applyFailurePolicy } from './failure-policy.js';
import { prepareHost, runHost } from './host-runner.js';
import type { Lane } from './plan.js';

/** Runs a host until it is no longer waiting: it ended, or the rollout halted. Paused, it waits. */
async function hostLoop(ctx: RolloutContext, hostId: string, limit: LimitFunction): Promise<void> {
  while (!ctx.halt && ctx.host(hostId).state === 'HOST_PENDING') {
    if (ctx.canStart(hostId)) await limit(() => runHost(ctx, hostId));
    else await ctx.wakeup.next();
  }
}

/**
 * One batch: every host that may start is prepared (described, image pulled) before any is
 * updated, then the updates run at most maxParallel at a time. Hosts of a paused group wait in the
 * batch, so the batch, and with it the lane, ends only once they have run. False when the rollout
 * halted before the batch began. In a resumed rollout, hosts that ended before the restart are
 * left alone, and those prepared before it are not prepared again.
 */
async function runBatch(
  ctx: RolloutContext,
  lane: string,
  index: number,
  hostIds: readonly string[],
): Promise<boolean> {
  const waiting = (): string[] => hostIds.filter((id) => ctx.host(id).state === 'HOST_PENDING');
  const startable = (): string[] => waiting().filter((id) => ctx.canStart(id));
  // A batch begins only once one of its hosts may: a paused rollout must not show its next batch begun.
  while (waiting().length > 0 && startable().length === 0) {
    if (ctx.halt || ctx.ledger.failure) return false;
    await ctx.wakeup.next();
  }
  // Saved with the first change an agent is asked on; a restarted controller starts the batch again.
  ctx.ledger.record({ kind: 'batch-started', lane, index });
  const unprepared = startable().filter((id) => !ctx.previousImages(id));
  await Promise.all(unprepared.map((id) => prepareHost(ctx, id)));
  const limit = pLimit(ctx.spec.maxParallel || hostIds.length);
  await Promise.all(hostIds.map((id) => hostLoop(ctx, id, limit)));
  await ctx.ledger.apply({ kind: 'batch-finished', lane, index });
  return true;
}

function batchTime(ctx: RolloutContext, lane: string, index: number, which: 'startedAtMs' | 'finishedAtMs') {
  return ctx.ledger.view.batches.find((b) => b.group === lane && b.index === index)?.[which] ?? 0;
}

/**
 * A lane's batches in order; the next begins only when the one before has ended and passed the
 * failure policy. A resumed rollout skips the batches that ended before the restart, and applies
 * the policy again (it changes nothing twice) after the last of them unless the next had begun.
 */
export async function runLane(ctx: RolloutContext, lane: Lane): Promise<void> {
  for (const [index, hostIds] of lane.batches.entries()) {
    const ended = batchTime(ctx, lane.name, index, 'finishedAtMs') > 0;
    if (ended && batchTime(ctx, lane.name, index + 1, 'startedAtMs') > 0) continue;
    if (!ended && !(await runBatch(ctx, lane.name, index, hostIds))) return;
    if (ctx.halt) return;
    await applyFailurePolicy(ctx, lane.name, index, hostIds);
  }
}
