import {
  InternalError,
  asFleetrollError,
  type FleetrollError,
  type Logger,
  type StepEvent,
  type UpdateHostRequest,
} from '@fleetroll/shared';
import { HOST_END_STEPS, type AgentClient } from '../transport/agent-client.js';
import type { RolloutContext } from './context.js';
import { HostTimeoutError } from './errors.js';
import { formatDuration, within } from './timeout.js';

/** One UpdateHost under way, and whether the rollout asked it to stop. */
export class AgentCall {
  private abort: 'none' | 'sending' | 'accepted' | 'refused' = 'none';
  private retried = false;
  private wanted = false;

  constructor(
    private readonly client: AgentClient,
    private readonly rolloutId: string,
    private readonly log: Logger,
  ) {}

  get abortRequested(): boolean {
    return this.wanted;
  }

  /** Fire and forget: an unreachable agent must not hold up a pause; its update will fail on its own. */
  requestAbort(): void {
    this.wanted = true;
    if (this.abort === 'none') this.sendAbort();
  }

  /**
   * An abort sent just after the update can reach the agent first and be refused as "nothing
   * running"; an event proves the update is there now, so a refused abort is sent once more.
   */
  sawEvent(): void {
    if (this.abort !== 'refused' || this.retried) return;
    this.retried = true;
    this.sendAbort();
  }

  private sendAbort(): void {
    this.abort = 'sending';
    this.client.abort(this.rolloutId).then(
      (accepted) => {
        this.abort = accepted ? 'accepted' : 'refused';
      },
      (err: unknown) => {
        this.abort = 'refused';
        const error = asFleetrollError(err);
        this.log.warn({ code: error.code }, `abort request failed: ${error.message}`);
      },
    );
  }
}

export interface CallFailure {
  readonly kind: 'failed';
  readonly error: FleetrollError;
  /** A call given up on (timed out, or two agents answer to the host) that may still be running. */
  readonly abandoned?: AgentCall;
}

export type CallResult =
  { readonly kind: 'ended'; readonly event: StepEvent; readonly abortRequested: boolean } | CallFailure;

/** Records the failure, then (the change saved first) asks an abandoned update to stop. */
export async function failCall(
  ctx: RolloutContext,
  hostId: string,
  failure: CallFailure,
  error: FleetrollError = failure.error,
): Promise<void> {
  await ctx.failHost(hostId, error);
  failure.abandoned?.requestAbort();
}

/**
 * Runs one UpdateHost: every event goes into the status, the call is reachable by pause and abort
 * while it runs, and it ends within timeoutMs (the host timeout, or what is left of it) whatever the
 * agent does. Rejections (the agent refused, or vanished) come back as a result, never as a hang or
 * a throw.
 */
export async function callUpdate(
  ctx: RolloutContext,
  hostId: string,
  request: UpdateHostRequest,
  onStep: (event: StepEvent) => void = () => undefined,
  timeoutMs: number = ctx.spec.hostTimeoutMs,
): Promise<CallResult> {
  const log = ctx.log.child({ hostId });
  let client: AgentClient;
  try {
    client = ctx.agents.client(hostId);
  } catch (err) {
    return { kind: 'failed', error: asFleetrollError(err) };
  }
  const call = new AgentCall(client, ctx.spec.id, log);
  let live = true;
  const record = (event: StepEvent): void => {
    if (!live) return;
    call.sawEvent();
    onStep(event);
    // Progress: saved with the host's end, or before it; the rollout acts on the end alone.
    ctx.ledger.record({ kind: 'host-step', hostId, event }, event);
  };
  ctx.inFlight.set(hostId, call);
  let result: CallResult;
  try {
    const outcome = await within(client.update(request, record), timeoutMs);
    if (!outcome.done) {
      const limit = formatDuration(timeoutMs);
      const error = new HostTimeoutError(
        `no end of the update to ${request.image} after ${limit}; asked the agent to stop at its next slot boundary`,
      );
      result = { kind: 'failed', error, abandoned: call };
    } else if (!HOST_END_STEPS.has(outcome.value.step)) {
      const error = new InternalError(
        `the update ended with ${outcome.value.step}, which is not a host end step`,
      );
      result = { kind: 'failed', error };
    } else {
      result = { kind: 'ended', event: outcome.value, abortRequested: call.abortRequested };
    }
  } catch (err) {
    const error = asFleetrollError(err);
    // Two agents answer to the host: whichever of them runs the update must stop at a slot boundary.
    result =
      error.code === 'DUPLICATE_HOST_ID'
        ? { kind: 'failed', error, abandoned: call }
        : { kind: 'failed', error };
  } finally {
    live = false;
    ctx.inFlight.delete(hostId);
  }
  return result;
}
