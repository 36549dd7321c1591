import { setTimeout as sleep } from 'node:timers/promises';
import { codecs, connectNats, createLogger, type StepEvent } from '@fleetroll/shared';

export interface SeenStep {
  event: StepEvent;
  /** When this process received it. */
  seenAtMs: number;
}

export interface StepRecorder {
  readonly seen: readonly SeenStep[];
  /** The first step, in order of arrival, that `match` accepts; waits for it at most timeoutMs. */
  until(
    match: (step: SeenStep, all: readonly SeenStep[]) => boolean,
    what: string,
    timeoutMs: number,
  ): Promise<SeenStep>;
  close(): Promise<void>;
}

/**
 * Every step every agent publishes on NATS, whichever controller asked for it (or none is left to
 * listen): the agents' own account of what they did, across controller crashes.
 */
export async function recordAgentSteps(natsUrl: string): Promise<StepRecorder> {
  const nc = await connectNats(
    { servers: [natsUrl] },
    'fleetroll-test-steps',
    createLogger('steps', { write: () => undefined }),
  );
  const seen: SeenStep[] = [];
  nc.subscribe('fleetroll.v1.events.>', {
    callback: (err, msg) => {
      if (!err) seen.push({ event: codecs.stepEvent.decode(msg.data), seenAtMs: Date.now() });
    },
  });
  return {
    seen,
    async until(match, what, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = seen.find((s) => match(s, seen));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no agent step ${what} within ${timeoutMs / 1000} s`);
        await sleep(25);
      }
    },
    close: () => nc.close(),
  };
}
