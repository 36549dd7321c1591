import type { Halt, RolloutContext } from './context.js';

/**
 * No new host of these groups starts; their hosts in flight are asked to stop at the next slot
 * boundary (the groups stay PAUSING until they have). Saved first, then the agents are asked.
 * `after`: the batch the spec's pauseAfter holds the rollout after, marked held with the pause.
 */
export async function pauseGroups(
  ctx: RolloutContext,
  groups: readonly string[],
  reason: string,
  after?: { lane: string; index: number },
): Promise<void> {
  await ctx.ledger.apply({ kind: 'paused', groups, reason, ...(after ? { after } : {}) });
  ctx.requestAborts((host) => groups.includes(host.group));
}

export async function resumeGroups(ctx: RolloutContext, groups: readonly string[]): Promise<void> {
  await ctx.ledger.apply({ kind: 'resumed', groups });
  ctx.wakeup.wake();
}

/**
 * Stops forward progress for good: no host starts again, hosts in flight stop at their next slot
 * boundary. The first halt decides how the rollout ends; a later one (an operator's abort during a
 * rollback) only stops what is running.
 */
export async function haltRollout(ctx: RolloutContext, halt: Halt): Promise<void> {
  const first = (ctx.halt ??= halt);
  // Waiters wake at once, so that nothing starts while the change is being saved.
  ctx.wakeup.wake();
  await ctx.ledger.apply({
    kind: 'halting',
    message: halt.message,
    halt: first,
    byOperator: ctx.abortedByOperator,
  });
  ctx.requestAborts(() => true);
}
