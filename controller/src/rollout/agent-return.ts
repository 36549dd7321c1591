import { setTimeout as sleep } from 'node:timers/promises';
import {
  asFleetrollError,
  type FleetrollError,
  type HostDescription,
  type UpdateHostRequest,
} from '@fleetroll/shared';
import type { AgentClient } from '../transport/agent-client.js';
import { AgentCall, callUpdate, type CallResult } from './agent-call.js';
import type { RolloutContext } from './context.js';
import { withContext } from './errors.js';
import { formatDuration, within } from './timeout.js';

/** How often an agent that vanished is looked for, and an update it still runs checked on. */
export const PROBE_MS = 500;

/**
 * Times one host's agent may vanish and come back within one update. An agent that keeps dying
 * (a crash loop) must fail its host rather than hold the batch until the host timeout.
 */
export const MAX_AGENT_RETURNS = 3;

export type AgentReturn =
  /** It answers and runs nothing of this rollout: it can be asked again. */
  | { readonly kind: 'back'; readonly description: HostDescription }
  /** The rollout paused or stopped while the agent was away. */
  | { readonly kind: 'interrupted' }
  /** Not back by the deadline; why, in the words of the last look. */
  | { readonly kind: 'lost'; readonly why: string }
  /** Not to be asked at all: two agents answer to its host id. */
  | { readonly kind: 'refused'; readonly error: FleetrollError };

type Look =
  | { readonly kind: 'gone'; readonly why: string }
  | { readonly kind: 'refused'; readonly error: FleetrollError }
  | { readonly kind: 'there'; readonly description: HostDescription };

async function look(client: AgentClient, budgetMs: number): Promise<Look> {
  // Over NATS an answer from a host the registry calls dead would be cut off by it at once.
  if (client.isAlive && !client.isAlive()) return { kind: 'gone', why: 'no heartbeat in the registry' };
  // Until a restart can be told from a second agent, the one that answers might not be the one asked.
  const settling = client.settling?.();
  if (settling) return { kind: 'gone', why: settling };
  try {
    const answer = await within(client.describe(), Math.max(1, budgetMs));
    if (answer.done) return { kind: 'there', description: answer.value };
    return { kind: 'gone', why: `Describe unanswered after ${formatDuration(budgetMs)}` };
  } catch (err) {
    const error = asFleetrollError(err);
    if (error.code === 'DUPLICATE_HOST_ID') return { kind: 'refused', error };
    return { kind: 'gone', why: error.message };
  }
}

/**
 * After an agent vanished during this rollout's update of its host: waits until it is back (alive
 * in the registry when the transport has one, and answering Describe) and no longer running the
 * update. It may still be running it when only the controller lost sight of it (a NATS outage, a
 * broken stream); that update is waited out, or asked to stop if the rollout paused meanwhile.
 * A restarted agent has already repaired its interrupted slot from its journal before answering.
 */
export async function awaitAgentReturn(
  ctx: RolloutContext,
  hostId: string,
  client: AgentClient,
  deadlineMs: number,
  probeMs = PROBE_MS,
): Promise<AgentReturn> {
  let why = 'not looked for yet';
  let abortSent = false;
  while (Date.now() < deadlineMs) {
    // Another controller took the rollout over (or the store failed): nothing more is sent from here.
    if (ctx.ledger.failure) return { kind: 'interrupted' };
    const seen = await look(client, deadlineMs - Date.now());
    if (seen.kind === 'refused') return seen;
    if (seen.kind === 'gone') {
      why = seen.why;
      // Nothing runs there to stop at a slot boundary: the host settles now, and runs on resume.
      if (!ctx.canStart(hostId)) return { kind: 'interrupted' };
    } else if (seen.description.activeRolloutId !== ctx.spec.id) {
      return { kind: 'back', description: seen.description };
    } else {
      why = 'it was still running the update';
      if (!ctx.canStart(hostId) && !abortSent) {
        abortSent = true;
        client.abort(ctx.spec.id).catch(() => false);
      }
    }
    await sleep(Math.max(0, Math.min(probeMs, deadlineMs - Date.now())));
  }
  return { kind: 'lost', why };
}

function waiting(ctx: RolloutContext, hostId: string, message: string): Promise<void> {
  const { slotsTotal } = ctx.host(hostId);
  return ctx.ledger.apply({ kind: 'host-running', hostId, state: 'HOST_UPDATING', slotsTotal, message });
}

/** An update cut short by something other than the agent's own verdict, and how to wait it out. */
interface Interruption {
  readonly error: FleetrollError;
  /** What the host shows while the controller waits. */
  readonly waiting: string;
  /** Said when it keeps happening: "the agent <this> N times". */
  readonly repeated: string;
}

async function runsThisRollout(ctx: RolloutContext, hostId: string, probeMs: number): Promise<boolean> {
  let client: AgentClient;
  try {
    client = ctx.agents.client(hostId);
  } catch {
    return false; // no longer known: the refusal stands as it is
  }
  const seen = await look(client, probeMs);
  return seen.kind === 'there' && seen.description.activeRolloutId === ctx.spec.id;
}

/**
 * The agent vanished; or it refused as busy because it still runs this very rollout's update, one
 * it took before it went out of sight (the rollout paused meanwhile) or before another controller
 * took over. Both are waited out and the agent asked again; any other failure is the host's.
 */
async function interruption(
  ctx: RolloutContext,
  hostId: string,
  result: CallResult,
  probeMs: number,
): Promise<Interruption | undefined> {
  if (result.kind !== 'failed') return undefined;
  const { error } = result;
  if (error.code === 'AGENT_UNREACHABLE') {
    return {
      error,
      waiting: `agent lost (${error.message}); waiting for it to come back`,
      repeated: 'vanished',
    };
  }
  if (error.code === 'AGENT_BUSY' && (await runsThisRollout(ctx, hostId, probeMs))) {
    return {
      error,
      waiting: `the agent still runs this rollout's update it took before (${error.message}); waiting for it to end`,
      repeated: "was found still running this rollout's update",
    };
  }
  return undefined;
}

/**
 * UpdateHost, asked again each time the agent vanished and came back, or was found still running
 * this rollout's update (at most MAX_AGENT_RETURNS times), all within one host timeout: UpdateHost
 * is idempotent (slots on the image are skipped) and a restarted agent repaired its interrupted slot
 * before answering. Only an agent that stays away, or keeps vanishing, fails its host. Null when the
 * rollout paused or stopped meanwhile.
 */
export async function updateThroughReturns(
  ctx: RolloutContext,
  hostId: string,
  request: UpdateHostRequest,
  probeMs = PROBE_MS,
): Promise<CallResult | null> {
  const deadline = Date.now() + ctx.spec.hostTimeoutMs;
  const limit = formatDuration(ctx.spec.hostTimeoutMs);
  let result = await callUpdate(ctx, hostId, request);
  for (let returns = 0; ; returns++) {
    const cut = await interruption(ctx, hostId, result, probeMs);
    if (!cut) return result;
    if (returns === MAX_AGENT_RETURNS) {
      return {
        kind: 'failed',
        error: withContext(cut.error, `the agent ${cut.repeated} ${returns + 1} times`),
      };
    }
    const log = ctx.log.child({ hostId });
    log.warn({ code: cut.error.code }, cut.waiting);
    const lostAt = Date.now();
    await waiting(ctx, hostId, cut.waiting);
    const back = await awaitAgentReturn(ctx, hostId, ctx.agents.client(hostId), deadline, probeMs);
    if (back.kind === 'interrupted') return null;
    if (back.kind === 'refused') {
      // The update it was running may go on, on either machine: both are asked to stop.
      const abandoned = new AgentCall(ctx.agents.client(hostId), ctx.spec.id, log);
      return { kind: 'failed', error: back.error, abandoned };
    }
    if (back.kind === 'lost') {
      const error = withContext(
        cut.error,
        `the agent was not back within the host timeout of ${limit} (${back.why})`,
      );
      return { kind: 'failed', error };
    }
    log.warn(`agent back after ${formatDuration(Date.now() - lostAt)}; asking it to update again`);
    await waiting(ctx, hostId, `agent back; updating to ${request.image ?? ''} again`);
    if (!ctx.canStart(hostId)) return null;
    result = await callUpdate(ctx, hostId, request, undefined, Math.max(1, deadline - Date.now()));
  }
}
