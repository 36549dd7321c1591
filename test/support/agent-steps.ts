import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestContext } from 'node:test';
import { codecs, connectNats, createLogger, type StepEvent } from '@fleetroll/shared';
import { startLocalFleet, type ControllerProcess, type LocalFleet } from '@fleetroll/local-fleet';

export interface SeenStep {
  event: StepEvent;
  /** When this process received it. */
  seenAtMs: number;
}

export interface StepRecorder {
  /** In order of arrival. */
  readonly seen: readonly SeenStep[];
  close(): Promise<void>;
}

/**
 * Every step every agent publishes on NATS, whichever controller asked for it (or none is left to
 * listen): the agents' own account of what they did, across controller crashes.
 */
export async function recordAgentSteps(natsUrl: string): Promise<StepRecorder> {
  const quiet = createLogger('steps', { write: () => undefined });
  const nc = await connectNats({ servers: [natsUrl] }, 'fleetroll-test-steps', quiet);
  const seen: SeenStep[] = [];
  nc.subscribe('fleetroll.v1.events.>', {
    callback: (err, msg) => {
      if (!err) seen.push({ event: codecs.stepEvent.decode(msg.data), seenAtMs: Date.now() });
    },
  });
  return { seen, close: () => nc.close() };
}

/** Waits until hostId's agent has published `step`; fails with every step seen so far. */
export async function untilStep(
  steps: StepRecorder,
  hostId: string,
  step: StepEvent['step'],
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!steps.seen.some((s) => s.event.hostId === hostId && s.event.step === step)) {
    if (Date.now() > deadline) {
      const seen = steps.seen.map((s) => `${s.event.hostId} ${s.event.slot} ${s.event.step}`).join(', ');
      assert.fail(`no ${step} of ${hostId} within ${timeoutMs / 1000} s; seen: ${seen}`);
    }
    await sleep(50);
  }
}

/** The steps hostId's agent published, in order. */
export function stepsOf(steps: StepRecorder, hostId: string): StepEvent['step'][] {
  return steps.seen.filter((s) => s.event.hostId === hostId).map((s) => s.event.step);
}

/**
 * A local fleet over NATS (no Docker HEALTHCHECK) with every agent step recorded; torn down after the
 * test, with the controllers the test adds to `extra` (a restarted or standby one) killed first.
 */
export async function fleetWithSteps(
  t: TestContext,
  opts: { name: string; hosts: number; indexBase: number },
): Promise<{ fleet: LocalFleet; steps: StepRecorder; extra: ControllerProcess[] }> {
  const fleet = await startLocalFleet({ ...opts, transport: 'nats', dockerHealthcheck: false });
  const extra: ControllerProcess[] = [];
  const steps = await recordAgentSteps(fleet.nats.url).catch(async (err: unknown) => {
    await fleet.stop();
    throw err;
  });
  t.after(async () => {
    await Promise.all(extra.map((c) => c.stop('SIGKILL').catch(() => undefined)));
    await steps.close().catch(() => undefined);
    await fleet.stop();
  });
  return { fleet, steps, extra };
}
