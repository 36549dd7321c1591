import type { RolloutContext } from './context.js';
import { pauseGroups } from './control.js';
import { batchName } from './failure-policy.js';
import { ALL_GROUPS, type Lane } from './plan.js';
import { batchOf, openGroups } from './status.js';

/**
 * Words for an InvalidInputError about batch numbers the plan has nothing after: a pause
 * after a lane's last batch would hold nothing back. Empty when every number is fine.
 */
export function pauseAfterProblem(pauseAfter: readonly number[], lanes: readonly Lane[]): string {
  const most = Math.max(0, ...lanes.map((l) => l.batches.length));
  const late = pauseAfter.filter((n) => n >= most);
  if (late.length === 0) return '';
  const batches = `${most} batch${most === 1 ? '' : 'es'}${lanes.length > 1 ? ' in its longest lane' : ''}`;
  return `pause_after: the rollout has ${batches}, so after batch ${late.join(', ')} nothing would be held back`;
}

/**
 * Argo's pause step, a Nomad canary without auto_promote: after each batch the spec names, the
 * lane's groups pause until an operator resumes them. Once per batch: the batch is marked held
 * with the pause, so neither a restarted controller nor the loop after a resume pauses again.
 */
export async function holdAfterBatch(ctx: RolloutContext, lane: Lane, index: number): Promise<void> {
  const number = index + 1;
  if (!ctx.spec.pauseAfter.includes(number) || number >= lane.batches.length) return;
  const batch = batchOf(ctx.ledger.live, lane.name, index);
  if (!batch || batch.heldAtMs > 0) return;
  const groups = lane.name === ALL_GROUPS ? openGroups(ctx.ledger.view) : [lane.name];
  const reason =
    `${batchName(lane.name, index)} done; paused as the rollout asked (pause after batch ${number}): ` +
    'resume it to go on';
  await pauseGroups(ctx, groups, reason, { lane: lane.name, index });
}
