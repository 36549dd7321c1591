import type { RolloutContext } from './context.js';
import type { Change } from './reducer.js';

type Finished = Extract<Change, { kind: 'finished' }>;

/** How the rollout ends, once nothing is in flight; `unrolled` are hosts a rollback could not return. */
export function finalChange(ctx: RolloutContext, unrolled: readonly string[] = []): Finished {
  const { hosts, image } = ctx.ledger.view;
  const left = unrolled.length > 0 ? `; not rolled back: ${unrolled.join(', ')}` : '';
  if (ctx.abortedByOperator) {
    return {
      kind: 'finished',
      state: 'ROLLOUT_ABORTED',
      message: `aborted by operator${left}`,
      skipped: 'not started: the rollout was aborted',
    };
  }
  const halt = ctx.halt;
  if (halt?.reason === 'rollback') {
    return {
      kind: 'finished',
      state: unrolled.length === 0 ? 'ROLLOUT_ROLLED_BACK' : 'ROLLOUT_FAILED',
      message:
        unrolled.length === 0
          ? `rolled back: ${halt.message}`
          : `rollback incomplete${left}; ${halt.message}`,
      skipped: 'not started: the rollout was rolled back',
    };
  }
  if (halt) {
    return {
      kind: 'finished',
      state: 'ROLLOUT_FAILED',
      message: halt.message,
      skipped: 'not started: the rollout failed',
    };
  }
  const failed = hosts.filter((h) => h.state === 'HOST_FAILED').map((h) => h.hostId);
  // As in Ansible, failures the max-fail limit let through still fail the run: not every host is on the image.
  return failed.length > 0
    ? {
        kind: 'finished',
        state: 'ROLLOUT_FAILED',
        message: `${failed.length} of ${hosts.length} hosts failed: ${failed.join(', ')}`,
        skipped: '',
      }
    : {
        kind: 'finished',
        state: 'ROLLOUT_SUCCEEDED',
        message: `${hosts.length} hosts on ${image}`,
        skipped: '',
      };
}
