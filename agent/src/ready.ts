import { HealthCheckError, type SlotConfig, type SlotTimings } from '@fleetroll/shared';
import { PollBeat } from './poll-beat.js';
import type { ContainerRuntime, LoadBalancer, ServerStat } from './ports.js';
import { holdAtZero } from './weight-hold.js';

/**
 * HAProxy statuses under which the server takes traffic once its weight is back.
 * "no check" means HAProxy does not check the server at all, so it cannot confirm
 * anything; Docker's view has to be enough then.
 */
const SERVING = new Set(['UP', 'DRAIN', 'no check']);

export function isServing(stat: ServerStat): boolean {
  return SERVING.has(stat.status);
}

export interface ReadyDeps {
  runtime: ContainerRuntime;
  lb: LoadBalancer;
  pollMs: number;
}

export interface ReadyResult {
  /** How often HAProxy had the server above weight 0 during the wait and was set back to 0. */
  weightResets: number;
}

/**
 * Resolves once the container is healthy by Docker's own check (or, without a
 * HEALTHCHECK, has been running for minReadyMs) AND HAProxy sees the server UP.
 * Fails early when the container exits or Docker calls it unhealthy.
 *
 * With `holdWeightZero` the server is also kept at weight 0 meanwhile (holdAtZero). A
 * reload also starts every server UP: the new container would take requests at its
 * configured weight from the reload, or from HAProxy's first passing check, before
 * Docker's health check and this wait have verified it. Held, for one poll at most.
 */
export async function waitReady(
  deps: ReadyDeps,
  slot: SlotConfig,
  containerId: string,
  timings: Pick<SlotTimings, 'healthTimeoutMs' | 'minReadyMs'>,
  holdWeightZero = false,
): Promise<ReadyResult> {
  const beat = new PollBeat(deps.pollMs);
  const deadline = Date.now() + timings.healthTimeoutMs;
  let weightResets = 0;
  let last: string;
  for (;;) {
    const [c, stat] = await Promise.all([
      deps.runtime.inspect(containerId),
      deps.lb.serverStat(slot.backend, slot.server),
    ]);
    if (holdWeightZero && (await holdAtZero(deps.lb, slot, stat.weight))) weightResets += 1;
    if (!c.running) {
      throw new HealthCheckError(
        `container ${c.name} stopped (${c.state}, exit code ${c.exitCode}) before it was healthy`,
      );
    }
    if (c.health === 'unhealthy') {
      throw new HealthCheckError(`Docker reports container ${c.name} unhealthy`);
    }
    const containerReady =
      c.health === 'healthy' || (c.health === 'none' && Date.now() - c.startedAtMs >= timings.minReadyMs);
    if (containerReady) {
      if (isServing(stat)) return { weightResets };
      last = `Docker: ${c.health === 'none' ? 'running' : c.health}, HAProxy ${slot.backend}/${slot.server}: ${stat.status}`;
    } else {
      last = `Docker: ${c.health === 'none' ? 'running for less than minReady' : c.health}`;
    }
    if (Date.now() >= deadline) {
      throw new HealthCheckError(
        `container ${c.name} not healthy within ${timings.healthTimeoutMs} ms (${last})`,
      );
    }
    await beat.wait();
  }
}
