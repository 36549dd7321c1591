import pLimit from 'p-limit';
import { RemoteError } from '@fleetroll/shared';
import { callUpdate, failCall } from './agent-call.js';
import type { RolloutContext } from './context.js';
import {
  isRolloutBuild,
  returnTarget,
  type ReturnTarget,
  type RolloutBuild,
  type SlotBuild,
} from './builds.js';
import { withContext } from './errors.js';
import type { HostStatus } from './status.js';

/** One UpdateHost of a rollback: the slots that ran one build before the rollout, and the way back to it. */
export interface RollbackStep extends ReturnTarget {
  readonly slots: string[];
}

/**
 * The builds to return to, each with its slots: the agent takes one image per update, and slots of
 * one host may have run different builds. Slots that ran the rollout's build before it began, or
 * had no container then, have nothing to return to.
 */
export function rollbackPlan(previous: ReadonlyMap<string, SlotBuild>, build: RolloutBuild): RollbackStep[] {
  const steps = new Map<string, RollbackStep>();
  for (const [slot, old] of previous) {
    if (old.image === '' || isRolloutBuild(old, build)) continue;
    const target = returnTarget(old, build);
    const step = steps.get(target.image) ?? { ...target, slots: [] };
    step.slots.push(slot);
    steps.set(target.image, step);
  }
  return [...steps.values()];
}

function needsRollback(host: Readonly<HostStatus>): boolean {
  // Only a resumed rollout finds a host ROLLING_BACK here: its rollback was cut short by the restart.
  if (host.state === 'HOST_SUCCEEDED' || host.state === 'HOST_ROLLING_BACK') return true;
  // A host that failed or was stopped part-way has its earlier slots on the new image.
  const partial = host.state === 'HOST_FAILED' || host.state === 'HOST_SKIPPED';
  return partial && host.slotsReplaced > 0;
}

async function rollBackHost(ctx: RolloutContext, hostId: string): Promise<void> {
  if (ctx.abortedByOperator) return;
  // Copied: the live status changes as the rollback runs.
  const before = { ...ctx.host(hostId) };
  const plan = rollbackPlan(ctx.previousImages(hostId) ?? new Map(), ctx.build());
  const names = plan.map((step) => step.name).join(', ');
  if (plan.length > 0) {
    const slotsTotal = plan.reduce((n, step) => n + step.slots.length, 0);
    const message = `rolling back to ${names}`;
    await ctx.ledger.apply({ kind: 'host-running', hostId, state: 'HOST_ROLLING_BACK', slotsTotal, message });
  }
  for (const { image, imageIds, name, slots } of plan) {
    const request = { rolloutId: ctx.spec.id, image, imageIds, slots, options: ctx.spec.options };
    const result = await callUpdate(ctx, hostId, request);
    if (result.kind === 'failed') {
      return failCall(ctx, hostId, result, withContext(result.error, `rollback to ${name} failed`));
    }
    const { step, errorCode, message } = result.event;
    if (step !== 'HOST_DONE') {
      const error = new RemoteError(
        errorCode || 'ROLLBACK_FAILED',
        `rollback to ${name} ended ${step}: ${message}`,
      );
      return ctx.failHost(hostId, error);
    }
  }
  const back = plan.length > 0 ? `back on ${names}` : 'no slot ran another build before the rollout';
  const failure = before.state === 'HOST_FAILED' ? `; the update had failed: ${before.message}` : '';
  await ctx.ledger.apply({
    kind: 'host-ended',
    hostId,
    state: 'HOST_ROLLED_BACK',
    errorCode: before.state === 'HOST_FAILED' ? before.errorCode : '',
    message: back + failure,
  });
}

/**
 * Returns every host the rollout changed to the image(s) it ran before, maxParallel at a time.
 * Resolves with the hosts that could not be rolled back.
 */
export async function rollBack(ctx: RolloutContext): Promise<string[]> {
  const targets = ctx.ledger.view.hosts.filter(needsRollback).map((h) => h.hostId);
  const why = ctx.halt?.message ?? '';
  await ctx.ledger.apply({ kind: 'rolling-back', message: `rolling back ${targets.length} hosts: ${why}` });
  const limit = pLimit(ctx.spec.maxParallel || Math.max(1, targets.length));
  await Promise.all(targets.map((id) => limit(() => rollBackHost(ctx, id))));
  return targets.filter((id) => ctx.host(id).state !== 'HOST_ROLLED_BACK');
}
