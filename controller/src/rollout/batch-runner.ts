import pLimit, { type LimitFunction } from 'p-limit';
import type { RolloutContext } from './context.js';
import { applyFailurePolicy } from './failure-policy.js';
import { prepareHost, runHost } from './host-runner.js';
import type { Lane } from './plan.js';
import { batchOf } from './status.js';
import { holdAfterBatch } from './pause-after.js';
import { soakBatch } from './soak.js';

/** Runs a host until it is no longer waiting: it ended, or the rollout halted. Paused, it waits. */
async function hostLoop(ctx: RolloutContext, hostId: string, limit: LimitFunction): Promise<void> {
  while (!ctx.halt && ctx.host(hostId).state === 'HOST_PENDING') {
    if (ctx.canStart(hostId)) await limit(() => runHost(ctx, hostId));
    else await ctx.wakeup.next();
  }
}

function waiting(ctx: RolloutContext, hostIds: readonly string[]): string[] {
  return hostIds.filter((id) => ctx.host(id).state === 'HOST_PENDING');
}

function startable(ctx: RolloutContext, hostIds: readonly string[]): string[] {
  return waiting(ctx, hostIds).filter((id) => ctx.canStart(id));
}

/** Describes and pre-pulls the hosts of a batch that may start and have not been prepared yet. */
async function prepareBatch(ctx: RolloutContext, hostIds: readonly string[], ahead = false): Promise<void> {
  const unprepared = startable(ctx, hostIds).filter((id) => !ctx.previousImages(id));
  await Promise.all(unprepared.map((id) => prepareHost(ctx, id, ahead)));
}

/**
 * Waits for `work` unless the rollout halts first (false then). A pull may take minutes: an abort
 * or the failure action ends the rollout without it, and the agents' pulls change no slot.
 */
async function unlessHalted(ctx: RolloutContext, work: Promise<void>): Promise<boolean> {
  // Once halted, what it still brings is dropped (see prepareHost), and so is how it ends.
  work.catch(() => undefined);
  const done = work.then(() => true);
  while (!ctx.halt) {
    if (await Promise.race([done, ctx.wakeup.next().then(() => false)])) return true;
  }
  return false;
}

/**
 * Opens a batch: waits until one of its hosts may start, prepares (describes, pre-pulls) every host
 * that may start and was not prepared ahead, so that the image is on all of them before any drains,
 * and stamps its start: a batch starts when its updates do, its pre-pull is the preparation. False
 * when the rollout halted before the batch began, its preparation included.
 */
async function openBatch(
  ctx: RolloutContext,
  lane: string,
  index: number,
  hostIds: readonly string[],
  preparedAhead: Promise<void> | undefined,
): Promise<boolean> {
  // A batch begins only once one of its hosts may: a paused rollout must not show its next batch begun.
  while (waiting(ctx, hostIds).length > 0 && startable(ctx, hostIds).length === 0) {
    if (ctx.halt || ctx.ledger.failure) return false;
    await ctx.wakeup.next();
  }
  const prepared = (async () => {
    await preparedAhead;
    await prepareBatch(ctx, hostIds);
  })();
  if (!(await unlessHalted(ctx, prepared))) return false;
  // Saved with the first change an agent is asked on; a restarted controller starts the batch again.
  ctx.ledger.record({ kind: 'batch-started', lane, index });
  return true;
}

/**
 * The updates of an open batch, at most maxParallel at a time. Hosts of a paused group wait in the
 * batch, so the batch, and with it the lane, ends only once they have run. In a resumed rollout,
 * hosts that ended before the restart are left alone. Resolves with the preparation of the `next`
 * batch's hosts, begun while this batch updates so that the next can begin at once.
 */
async function updateBatch(
  ctx: RolloutContext,
  lane: string,
  index: number,
  hostIds: readonly string[],
  next: readonly string[] | undefined,
): Promise<{ ahead: Promise<void> | undefined }> {
  const limit = pLimit(ctx.spec.maxParallel || hostIds.length);
  const updates = Promise.all(hostIds.map((id) => hostLoop(ctx, id, limit)));
  // Not before the updates are out: a hundred describes sent first would hold them up. They go out
  // once the save of the hosts' changes ends; by the next turn of the loop every host asked for it.
  const sent = new Promise<void>((resolve) => setImmediate(resolve)).then(() => ctx.ledger.flush());
  const ahead = next && sent.then(() => prepareBatch(ctx, next, true));
  // A save failure ends the rollout through the ledger; a halt leaves the promise unawaited.
  ahead?.catch(() => undefined);
  await updates;
  // Saved with the next change anything acts on.
  ctx.ledger.record({ kind: 'batch-finished', lane, index });
  // Wrapped: a promise returned from an async function would be awaited, not handed on.
  return { ahead };
}

function batchTime(ctx: RolloutContext, lane: string, index: number, which: 'startedAtMs' | 'finishedAtMs') {
  return batchOf(ctx.ledger.live, lane, index)?.[which] ?? 0;
}

/**
 * A lane's batches in order; the next begins only when the one before has ended, soaked, passed
 * the failure policy and, when the spec asks for it, been held for an operator's resume. A
 * resumed rollout skips the batches that ended before the restart, and soaks (what is left) and
 * applies the policy again (it changes nothing twice) after the last of them unless the next had
 * begun.
 */
export async function runLane(ctx: RolloutContext, lane: Lane): Promise<void> {
  let preparedAhead: Promise<void> | undefined;
  for (const [index, hostIds] of lane.batches.entries()) {
    const ended = batchTime(ctx, lane.name, index, 'finishedAtMs') > 0;
    if (ended && batchTime(ctx, lane.name, index + 1, 'startedAtMs') > 0) continue;
    if (!ended) {
      if (!(await openBatch(ctx, lane.name, index, hostIds, preparedAhead))) return;
      ({ ahead: preparedAhead } = await updateBatch(ctx, lane.name, index, hostIds, lane.batches[index + 1]));
    }
    if (ctx.halt) return;
    await soakBatch(ctx, hostIds, batchTime(ctx, lane.name, index, 'finishedAtMs'));
    if (ctx.halt) return;
    await applyFailurePolicy(ctx, lane.name, index, hostIds);
    if (ctx.halt) return;
    await holdAfterBatch(ctx, lane, index);
  }
}
