import { codecs, connectNats, createLogger, type StepEvent } from '@fleetroll/shared';

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
