// Every step event the agents publish, heard on NATS beside the controller: the
// agents stamp each with their own clock, which is the one clock on this machine.
import { codecs, connectNats, subjects, type Logger, type StepEvent } from '@fleetroll/shared';

export interface StepRecorder {
  /** The events of one rollout, in the order they arrived. */
  of(rolloutId: string): StepEvent[];
  /** Messages on the events subjects that did not decode (should be none). */
  readonly undecodable: number;
  close(): Promise<void>;
}

/** Subscribes before it resolves, so that a rollout started afterwards loses no event. */
export async function recordSteps(natsUrl: string, log: Logger): Promise<StepRecorder> {
  const nc = await connectNats({ servers: [natsUrl] }, 'fleetroll-bench steps', log);
  const steps: StepEvent[] = [];
  let undecodable = 0;
  // '*' matches any rollout id, and the shared builder keeps the subject's shape in one place.
  nc.subscribe(subjects.rolloutEvents('*'), {
    callback: (err, msg) => {
      if (err) return;
      try {
        steps.push(codecs.stepEvent.decode(msg.data));
      } catch {
        undecodable++;
      }
    },
  });
  await nc.flush();
  return {
    of: (rolloutId) => steps.filter((e) => e.rolloutId === rolloutId),
    get undecodable() {
      return undecodable;
    },
    close: () => nc.drain(),
  };
}
