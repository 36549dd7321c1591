import {
  ImageMismatchError,
  RemoteError,
  parseInput,
  prePullResultSchema,
  asFleetrollError,
  sameBuild,
  shortImageId,
  type FleetrollError,
} from '@fleetroll/shared';
import { failCall, type CallResult } from './agent-call.js';
import { updateThroughReturns } from './agent-return.js';
import type { RolloutContext } from './context.js';
import { HostTimeoutError, UnexpectedAbortError, withContext } from './errors.js';
import { formatDuration, within } from './timeout.js';

/**
 * Records what the host runs now (the rollback target) and pulls the image, so that no slot waits
 * for a pull at weight 0. Neither touches a slot, but both count against the host timeout: an agent
 * that hangs here would hang the whole batch. Done `ahead` (while the batch before updates), a
 * failure does not fail the host: it goes back in line, and its own batch prepares it again, so
 * that a host fails in its batch and counts against that batch alone.
 */
export async function prepareHost(ctx: RolloutContext, hostId: string, ahead = false): Promise<void> {
  const { image, hostTimeoutMs } = ctx.spec;
  // Neither the pull nor the description touches a slot: a restarted controller that never heard of
  // them does them again, so they need not be saved before the agent is asked.
  ctx.ledger.record({ kind: 'host-pulling', hostId });
  // Side by side: neither needs the other, and a batch waits for the slowest of its hosts' round trips.
  const pending = new Set<string>();
  const stage = <T>(name: string, call: () => Promise<T>): Promise<T> => {
    pending.add(name);
    return call().then(
      (value) => {
        pending.delete(name);
        return value;
      },
      (err: unknown) => Promise.reject(withContext(asFleetrollError(err), `${name} failed`)),
    );
  };
  let outcome;
  try {
    const client = ctx.agents.client(hostId);
    const work = Promise.all([
      stage('describe', () => client.describe()),
      // Checked as it enters: the build it names is sent back to every host of the rollout.
      stage(`pre-pull of ${image}`, () =>
        client
          .prePull(image)
          .then((pull) => parseInput(prePullResultSchema, pull, `${hostId}'s PrePull answer`)),
      ),
    ]).then(([description, pull]) => ({ description, pull }));
    outcome = await within(work, hostTimeoutMs);
  } catch (err) {
    return prepareFailed(ctx, hostId, asFleetrollError(err), ahead);
  }
  // The rollout halted meanwhile and went on without this host (see unlessHalted): it starts no more.
  if (ctx.halt) return;
  if (!outcome.done) {
    const what = [...pending].join(' and ');
    const error = new HostTimeoutError(`${what} did not finish within ${formatDuration(hostTimeoutMs)}`);
    return prepareFailed(ctx, hostId, error, ahead);
  }
  const { description, pull } = outcome.value;
  const mismatch = otherBuild(ctx, hostId, pull.imageIds);
  if (mismatch) return prepareFailed(ctx, hostId, mismatch, ahead);
  // Saved with the host's update, which begins only once the rollback target is saved.
  ctx.ledger.record({
    kind: 'host-ready',
    hostId,
    slotsTotal: description.slots.length,
    previous: description.slots.map((s) => ({ slot: s.slot, image: s.image, imageId: s.imageId })),
    imageIds: pull.imageIds,
    message: pull.pulled
      ? `pulled ${image} in ${formatDuration(pull.durationMs)}`
      : `${image} already present`,
  });
}

/**
 * The image names another build on this host than on the host the rollout first prepared: the tag
 * was pushed again meanwhile, or this host keeps an older image under it. One rollout, one build.
 */
function otherBuild(
  ctx: RolloutContext,
  hostId: string,
  ids: readonly string[],
): ImageMismatchError | undefined {
  const { imageIds: pinned, imageIdsHost } = ctx.ledger.live;
  if (pinned.length === 0 || ids.length === 0 || sameBuild(ids, pinned)) return undefined;
  return new ImageMismatchError(
    `${ctx.spec.image} is ${shortImageId(ids)} on ${hostId}, not ${shortImageId(pinned)} as on ` +
      `${imageIdsHost}, where the rollout took it from: the tag was pushed again during the rollout, or ` +
      `${hostId} keeps an older image under it; nothing was changed there. Roll out by digest ` +
      '(name@sha256:…) or by a tag that is never pushed twice',
  );
}

function prepareFailed(ctx: RolloutContext, hostId: string, error: FleetrollError, ahead: boolean) {
  // Halted meanwhile: the host was never started, and the rollout's end says so.
  if (ctx.halt) return Promise.resolve();
  if (!ahead) return ctx.failHost(hostId, error);
  ctx.log.warn(
    { hostId, code: error.code },
    `${hostId}: preparing ahead failed, again in its batch: ${error.message}`,
  );
  ctx.ledger.record({
    kind: 'host-ended',
    hostId,
    state: 'HOST_PENDING',
    errorCode: '',
    message: `preparing ahead failed (${error.message}); tried again when its batch begins`,
  });
  return Promise.resolve();
}

/**
 * A host stopped at a slot boundary on the rollout's request. After an abort it is left as it is;
 * after a pause it goes back in line and runs again on resume (the agent skips the slots already done).
 */
function settleInterrupted(ctx: RolloutContext, hostId: string, why: string): Promise<void> {
  const halted = ctx.halt !== null;
  return ctx.ledger.apply({
    kind: 'host-ended',
    hostId,
    state: halted ? 'HOST_SKIPPED' : 'HOST_PENDING',
    errorCode: '',
    message: halted ? `stopped: ${why}` : `paused: ${why}; runs again on resume`,
  });
}

function settleUpdate(ctx: RolloutContext, hostId: string, result: CallResult): Promise<void> {
  if (result.kind === 'failed') return failCall(ctx, hostId, result);
  const { event, abortRequested } = result;
  switch (event.step) {
    case 'HOST_DONE':
      // Nothing is asked of an agent on a success: saved with the next change something acts on.
      ctx.ledger.record({
        kind: 'host-ended',
        hostId,
        state: 'HOST_SUCCEEDED',
        errorCode: '',
        message: event.message || `on ${ctx.spec.image}`,
      });
      return Promise.resolve();
    case 'HOST_ABORTED':
      if (abortRequested) return settleInterrupted(ctx, hostId, event.message || 'at a slot boundary');
      return ctx.failHost(
        hostId,
        new UnexpectedAbortError(
          `the agent stopped the update on its own: ${event.message || 'no reason given'}`,
        ),
      );
    default:
      return ctx.failHost(
        hostId,
        new RemoteError(
          event.errorCode || 'HOST_FAILED',
          event.message || 'the agent reported the update failed',
        ),
      );
  }
}

/** One attempt at a waiting host: prepare it if that has not happened yet, then update it. */
export async function runHost(ctx: RolloutContext, hostId: string): Promise<void> {
  const ready = (): boolean => ctx.canStart(hostId) && ctx.host(hostId).state === 'HOST_PENDING';
  if (!ready()) return;
  // Only the first attempt describes the host: after a pause some slots are on the new image already.
  if (!ctx.previousImages(hostId)) {
    await prepareHost(ctx, hostId);
    if (!ready()) return;
  }
  await ctx.ledger.apply({
    kind: 'host-running',
    hostId,
    state: 'HOST_UPDATING',
    slotsTotal: ctx.previousImages(hostId)?.size ?? 0,
    message: `updating to ${ctx.spec.image}`,
  });
  // A pause or an abort that came while the change was being saved: the agent has not been asked yet.
  if (!ctx.canStart(hostId)) return settleInterrupted(ctx, hostId, 'before its update began');
  const request = {
    rolloutId: ctx.spec.id,
    image: ctx.spec.image,
    slots: [],
    options: ctx.spec.options,
    // The agent checks it too: the tag may be pushed again between the host's pre-pull and its update.
    imageIds: ctx.ledger.live.imageIds,
  };
  const result = await updateThroughReturns(ctx, hostId, request);
  if (!result) return settleInterrupted(ctx, hostId, 'while its agent was away');
  await settleUpdate(ctx, hostId, result);
}
