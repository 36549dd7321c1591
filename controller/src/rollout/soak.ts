import { asFleetrollError, type SlotStatus } from '@fleetroll/shared';
import type { RolloutContext } from './context.js';
import { SoakCheckError } from './errors.js';
import { exceedsMaxFail } from './failure-policy.js';
import { formatDuration, within } from './timeout.js';

/** HAProxy statuses of a server that takes traffic ("UP 1/3" is UP with a failed check behind it). */
const SERVING = /^(UP|DRAIN)\b|^no check$/;

/**
 * What keeps one slot from counting as serving the new image; empty when nothing does. `created`:
 * the rollout made the slot's container (it ran another image before), so any restart is a crash
 * since the update; an older container's restarts may be from long before.
 */
export function slotProblems(slot: SlotStatus, image: string, created: boolean): string[] {
  const problems: string[] = [];
  if (slot.image !== image) problems.push(`runs ${slot.image || 'no container'}`);
  if (slot.containerState !== 'running') problems.push(`container ${slot.containerState}`);
  if (slot.health !== 'healthy' && slot.health !== 'none') problems.push(`Docker health ${slot.health}`);
  if (!SERVING.test(slot.lbStatus)) problems.push(`HAProxy ${slot.lbStatus}`);
  if (created && slot.restartCount > 0)
    problems.push(`restarted ${slot.restartCount} time${slot.restartCount > 1 ? 's' : ''}`);
  return problems;
}

/** Resolves after `ms`, or earlier once the rollout halts or can no longer act; true when the time came. */
async function waitFor(ctx: RolloutContext, ms: number): Promise<boolean> {
  const untilMs = Date.now() + ms;
  while (!ctx.halt && !ctx.ledger.failure) {
    const left = untilMs - Date.now();
    if (left <= 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const elapsed = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, left);
    });
    // The wakeup comes with a resume, a pause or a halt; a failed save ends the rollout through `failed`.
    await Promise.race([elapsed, ctx.wakeup.next(), ctx.ledger.failed.catch(() => undefined)]);
    clearTimeout(timer);
  }
  return false;
}

async function checkHost(ctx: RolloutContext, hostId: string, soak: string): Promise<void> {
  const { image, hostTimeoutMs } = ctx.spec;
  let problem: string;
  try {
    const outcome = await within(ctx.agents.client(hostId).describe(), hostTimeoutMs);
    if (!outcome.done) problem = `its agent did not answer within ${formatDuration(hostTimeoutMs)}`;
    else {
      const before = ctx.previousImages(hostId);
      const created = (slot: string) => before?.has(slot) === true && before.get(slot) !== image;
      const bad = outcome.value.slots
        .map((slot) => ({ slot: slot.slot, problems: slotProblems(slot, image, created(slot.slot)) }))
        .filter((s) => s.problems.length > 0);
      if (bad.length === 0) return;
      problem = bad.map((s) => `${s.slot}: ${s.problems.join(', ')}`).join('; ');
    }
  } catch (err) {
    problem = `its agent could not be asked: ${asFleetrollError(err).message}`;
  }
  await ctx.failHost(hostId, new SoakCheckError(`not serving ${image} after the ${soak} soak: ${problem}`));
}

/**
 * Swarm's `monitor`, Nomad's `min_healthy_time`: a new version that passes its health check and
 * crashes or degrades a few seconds later should stop the rollout before the next batch, not after
 * the last. The batch's updated hosts are left alone for the spec's soak, counted from the batch's
 * end (a restarted controller waits what is left), then described again; a host whose slots are not
 * all running the new image, healthy and serving in HAProxy fails, and counts against the batch.
 * A batch that already failed beyond the limit, or has no host done, is not soaked: its failure
 * action runs at once.
 */
export async function soakBatch(
  ctx: RolloutContext,
  hostIds: readonly string[],
  finishedAtMs: number,
): Promise<void> {
  const { soakMs, maxFailPercent } = ctx.spec;
  const done = () => hostIds.filter((id) => ctx.host(id).state === 'HOST_SUCCEEDED');
  const failed = hostIds.filter((id) => ctx.host(id).state === 'HOST_FAILED').length;
  if (soakMs === 0 || done().length === 0 || exceedsMaxFail(failed, hostIds.length, maxFailPercent)) return;
  // In the rollout's clock: the batch's end came from it, and a restarted controller reads it back.
  if (!(await waitFor(ctx, finishedAtMs + soakMs - ctx.ledger.now()))) return;
  const soak = formatDuration(soakMs);
  await Promise.all(done().map((id) => checkHost(ctx, id, soak)));
}
