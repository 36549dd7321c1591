import { asFleetrollError, type HostDescription } from '@fleetroll/shared';
import type { AgentClient } from '../transport/agent-client.js';
import { awaitAgentReturn } from './agent-return.js';
import { isRolloutBuild, type SlotBuild } from './builds.js';
import type { RolloutContext } from './context.js';
import { HostTimeoutError } from './errors.js';
import { formatDuration } from './timeout.js';

/** Slots now on the rollout's build that ran another before it: replaced, whoever saw it happen. */
function replacedSlots(ctx: RolloutContext, hostId: string, description: HostDescription): number {
  const before = ctx.previousImages(hostId) ?? new Map<string, SlotBuild>();
  const build = ctx.build();
  const replaced = description.slots.filter((s) => {
    const was = before.get(s.slot);
    return was !== undefined && isRolloutBuild(s, build) && !isRolloutBuild(was, build);
  });
  return replaced.length;
}

/**
 * A host the stored status shows in flight, in a controller that just restarted: the agent is asked
 * for its real state, and the host goes back in line once the agent is done with it (an UpdateHost
 * sent before the restart goes on without the controller, and is waited out). UPDATING and PULLING
 * hosts then run again as usual: UpdateHost skips the slots already on the image, so the agent's
 * own idempotence gives the final outcome. A ROLLING_BACK host is left to the rollback, which asks
 * again for what is left.
 */
export async function reconcileHost(ctx: RolloutContext, hostId: string): Promise<void> {
  const { state } = ctx.host(hostId);
  // A pre-pull changes no slot; preparing the host again describes it afresh.
  if (state === 'HOST_PULLING') {
    return ctx.ledger.apply({
      kind: 'host-reconciled',
      hostId,
      state: 'HOST_PENDING',
      slotsReplaced: 0,
      message: 'pre-pull cut short by a controller restart; prepared again',
    });
  }
  let client: AgentClient;
  try {
    client = ctx.agents.client(hostId);
  } catch (err) {
    return ctx.failHost(hostId, asFleetrollError(err));
  }
  ctx.log.info({ hostId, state }, `${hostId}: was in flight when the controller stopped; asking its agent`);
  const { hostTimeoutMs } = ctx.spec;
  // A pause or an abort saved just before the crash, which may never have reached the agent, is sent.
  const back = await awaitAgentReturn(ctx, hostId, client, Date.now() + hostTimeoutMs);
  if (ctx.ledger.failure) return;
  if (back.kind === 'lost') {
    const limit = formatDuration(hostTimeoutMs);
    const error = new HostTimeoutError(`not settled within ${limit} of a controller restart: ${back.why}`);
    await ctx.failHost(hostId, error);
    // Still running it, the agent stops at its next slot boundary.
    client.abort(ctx.spec.id).catch(() => false);
    return;
  }
  const rollingBack = state === 'HOST_ROLLING_BACK';
  await ctx.ledger.apply({
    kind: 'host-reconciled',
    hostId,
    state: rollingBack ? 'HOST_ROLLING_BACK' : 'HOST_PENDING',
    slotsReplaced: back.kind === 'back' && !rollingBack ? replacedSlots(ctx, hostId, back.description) : 0,
    message: rollingBack
      ? 'rollback cut short by a controller restart; what is left is rolled back again'
      : `update cut short by a controller restart; runs again (slots on ${ctx.spec.image} are skipped)`,
  });
}
