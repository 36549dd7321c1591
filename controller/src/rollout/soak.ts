import {
  asFleetrollError,
  shortImageId,
  type HostDescription,
  type SlotStatus,
  type msg,
} from '@fleetroll/shared';
import { isRolloutBuild, type RolloutBuild } from './builds.js';
import type { RolloutContext } from './context.js';
import { SoakCheckError } from './errors.js';
import { exceedsMaxFail } from './failure-policy.js';
import { formatDuration, within, type Within } from './timeout.js';

/** HAProxy statuses of a server that takes traffic ("UP 1/3" is UP with a failed check behind it). */
const SERVING = /^(UP|DRAIN)\b|^no check$/;

type Baseline = Pick<msg.SoakBaseline__Output, 'restartCount' | 'lbDownCount'>;

const times = (n: number) => `${n} time${n > 1 ? 's' : ''}`;

/**
 * What keeps one slot from counting as serving the rollout's build; empty when nothing does. `created`:
 * the rollout made the slot's container (it ran another build before), so any restart is a crash
 * since the update; an older container's restarts may be from long before. `before`: the slot as
 * the soak began, when it could be asked: what went wrong and came right again in between.
 */
export function slotProblems(
  slot: SlotStatus,
  build: RolloutBuild,
  created: boolean,
  before?: Baseline,
): string[] {
  const problems: string[] = [];
  if (slot.image !== build.image) problems.push(`runs ${slot.image || 'no container'}`);
  else if (!isRolloutBuild(slot, build))
    problems.push(`runs another build of ${slot.image} (${shortImageId([slot.imageId])})`);
  if (slot.containerState !== 'running') problems.push(`container ${slot.containerState}`);
  if (slot.health !== 'healthy' && slot.health !== 'none') problems.push(`Docker health ${slot.health}`);
  if (!SERVING.test(slot.lbStatus)) problems.push(`HAProxy ${slot.lbStatus}`);
  const restarts = created
    ? slot.restartCount
    : slot.restartCount - (before?.restartCount ?? slot.restartCount);
  if (restarts > 0) problems.push(`restarted ${times(restarts)}`);
  // A lower count than before: HAProxy was restarted, and its counters with it.
  const downs = slot.lbDownCount - (before?.lbDownCount ?? slot.lbDownCount);
  if (downs > 0) problems.push(`went DOWN in HAProxy ${times(downs)} during the soak`);
  return problems;
}

/** Resolves after `ms`, or earlier once the rollout halts or can no longer act; true when the time came. */
async function waitFor(ctx: RolloutContext, ms: number): Promise<boolean> {
  const untilMs = Date.now() + ms;
  while (!ctx.halt && !ctx.ledger.failure) {
    const left = untilMs - Date.now();
    if (left <= 0) return true;
    // The wakeup comes with a resume or a halt; a failed save ends the rollout through `failed`.
    await within(Promise.race([ctx.wakeup.next(), ctx.ledger.failed.catch(() => undefined)]), left);
  }
  return false;
}

/** The host as its agent describes it now, within the host timeout; the call may throw. */
function describeHost(ctx: RolloutContext, hostId: string): Promise<Within<HostDescription>> {
  return within(ctx.agents.client(hostId).describe(), ctx.spec.hostTimeoutMs);
}

/**
 * Each slot's counters as the soak begins, by slot name: those stored when this soak began (a
 * restarted controller goes on with them), else asked of the agent now and stored. Undefined when
 * the agent cannot say in time: the check at the end then judges the state alone.
 */
async function soakBaseline(ctx: RolloutContext, hostId: string): Promise<Map<string, Baseline> | undefined> {
  let baseline = ctx.host(hostId).soakBaseline;
  if (baseline.length === 0) {
    const outcome = await describeHost(ctx, hostId).catch(() => undefined);
    if (!outcome?.done) return undefined;
    baseline = outcome.value.slots.map(({ slot, restartCount, lbDownCount }) => ({
      slot,
      restartCount,
      lbDownCount,
    }));
    await ctx.ledger.apply({ kind: 'soak-began', hostId, baseline });
  }
  return new Map(baseline.map((b) => [b.slot, b]));
}

async function checkHost(
  ctx: RolloutContext,
  hostId: string,
  soak: string,
  before: ReadonlyMap<string, Baseline> | undefined,
): Promise<void> {
  const { image, hostTimeoutMs } = ctx.spec;
  let problem: string;
  try {
    const outcome = await describeHost(ctx, hostId);
    if (!outcome.done) problem = `its agent did not answer within ${formatDuration(hostTimeoutMs)}`;
    else {
      const previous = ctx.previousImages(hostId);
      const build = ctx.build();
      const created = (slot: string) => {
        const was = previous?.get(slot);
        return was !== undefined && !isRolloutBuild(was, build);
      };
      const bad = outcome.value.slots
        .map((s) => ({
          slot: s.slot,
          problems: slotProblems(s, build, created(s.slot), before?.get(s.slot)),
        }))
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
 * the last. The batch's updated hosts are described as the soak begins, left alone for the spec's
 * soak, counted from the batch's end (a restarted controller waits what is left, and compares with
 * the counters stored as the soak began), and described again; a host fails, and counts against
 * the batch, unless every slot runs the new image, healthy and serving in HAProxy, and neither
 * went DOWN in HAProxy nor was restarted by Docker in between. A batch that already failed beyond the limit, or has no
 * host done, is not soaked: its failure action runs at once.
 */
export async function soakBatch(
  ctx: RolloutContext,
  hostIds: readonly string[],
  finishedAtMs: number,
): Promise<void> {
  const { soakMs, maxFailPercent } = ctx.spec;
  const hosts = hostIds.filter((id) => ctx.host(id).state === 'HOST_SUCCEEDED');
  const failed = hostIds.filter((id) => ctx.host(id).state === 'HOST_FAILED').length;
  if (soakMs === 0 || hosts.length === 0 || exceedsMaxFail(failed, hostIds.length, maxFailPercent)) return;
  const before = await Promise.all(hosts.map((id) => soakBaseline(ctx, id)));
  // In the rollout's clock: the batch's end came from it, and a restarted controller reads it back.
  if (!(await waitFor(ctx, finishedAtMs + soakMs - ctx.ledger.now()))) return;
  const soak = formatDuration(soakMs);
  await Promise.all(hosts.map((id, i) => checkHost(ctx, id, soak, before[i])));
}
