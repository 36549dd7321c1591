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

/**
 * Subscribes before it resolves, so that a rollout started afterwards loses no event. The events are
 * kept as they came and decoded when asked for: a hundred agents' steps arrive at once, and decoding
 * them then would take the CPU the rollout being measured needs.
 */
export async function recordSteps(natsUrl: string, log: Logger): Promise<StepRecorder> {
  const nc = await connectNats({ servers: [natsUrl] }, 'fleetroll-bench steps', log);
  const heard: Uint8Array[] = [];
  const steps: StepEvent[] = [];
  let undecodable = 0;
  const decodeHeard = (): void => {
    for (const data of heard) {
      try {
        steps.push(codecs.stepEvent.decode(data));
      } catch {
        undecodable++;
      }
    }
    heard.length = 0;
  };
  // '*' matches any rollout id, and the shared builder keeps the subject's shape in one place.
  nc.subscribe(subjects.rolloutEvents('*'), {
    callback: (err, msg) => {
      // A copy: the bytes must not depend on what the client does with its read buffers.
      if (!err) heard.push(msg.data.slice());
    },
  });
  await nc.flush();
  return {
    of: (rolloutId) => {
      decodeHeard();
      return steps.filter((e) => e.rolloutId === rolloutId);
    },
    get undecodable() {
      decodeHeard();
      return undecodable;
    },
    close: () => nc.drain(),
  };
}
