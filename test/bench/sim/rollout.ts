// Starts a rollout through the controller's API and waits for its end by polling:
// a Watch stream would send the whole status on every step, which at a thousand
// hosts would cost the controller more than the rollout being measured.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ControllerApi } from '@fleetroll/controller';
import type { msg } from '@fleetroll/shared';

export interface RolloutRun {
  /** The final status, or the last one seen when the rollout did not end in time (then aborted). */
  status: msg.RolloutStatus__Output;
  ended: boolean;
  /** Just before StartRollout was sent: where the wall time starts. */
  requestedAtMs: number;
  /** GetRollout calls that failed (the API's 15 s deadline): the controller was too busy to answer. */
  unanswered: number;
}

/** A controller that stays silent this many polls in a row (≈ 2 min) is gone, not busy. */
const MAX_SILENT_POLLS = 8;

export async function runRollout(
  api: ControllerApi,
  request: msg.StartRolloutRequest,
  opts: { pollMs: number; timeoutMs: number },
): Promise<RolloutRun> {
  const requestedAtMs = Date.now();
  let status = await api.start(request);
  const deadline = requestedAtMs + opts.timeoutMs;
  let unanswered = 0;
  let silent = 0;
  for (;;) {
    await sleep(opts.pollMs);
    try {
      status = await api.get(status.id);
      silent = 0;
    } catch (err) {
      unanswered++;
      if (++silent >= MAX_SILENT_POLLS) throw err;
      continue;
    }
    // Only the end of a rollout sets finishedAtMs, whichever way it ended.
    if (status.finishedAtMs > 0) return { status, ended: true, requestedAtMs, unanswered };
    if (Date.now() > deadline) {
      await api.abort(status.id).catch(() => undefined);
      return { status, ended: false, requestedAtMs, unanswered };
    }
  }
}
