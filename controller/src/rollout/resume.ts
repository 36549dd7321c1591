import { InvalidInputError } from '@fleetroll/shared';
import { word } from '../../view/words.js';
import type { Halt } from './context.js';
import type { Lane } from './plan.js';
import { isTerminal, type HostState, type Status } from './status.js';

/** What a controller restarted from the store needs to know before it acts on a rollout again. */
export interface ResumePlan {
  /** The batches as they were planned at the start: the inventory may have changed since. */
  readonly lanes: readonly Lane[];
  /** Hosts an agent may still be working on: asked for their real state before anything else. */
  readonly inFlight: readonly string[];
  readonly halt: Halt | null;
  readonly abortedByOperator: boolean;
}

/** The agent may be working on these; no other host state needs a word with the agent to go on. */
const IN_FLIGHT: ReadonlySet<HostState> = new Set<HostState>([
  'HOST_PULLING',
  'HOST_UPDATING',
  'HOST_ROLLING_BACK',
]);

const HALT_REASONS: ReadonlySet<string> = new Set<Halt['reason']>(['abort', 'fail', 'rollback']);

/** Lanes in the order the status lists their batches (the order they were planned in), batches by index. */
export function lanesOf(status: Status): Lane[] {
  const lanes = new Map<string, string[][]>();
  for (const batch of status.batches) {
    const batches = lanes.get(batch.group) ?? [];
    batches[batch.index] = [...batch.hostIds];
    lanes.set(batch.group, batches);
  }
  return [...lanes].map(([name, batches]) => ({ name, batches: batches.filter((b) => b !== undefined) }));
}

function haltOf(status: Status): Halt | null {
  if (status.haltReason === '') return null;
  // A reason this controller does not know (a newer one wrote it) still stops the rollout.
  const reason = HALT_REASONS.has(status.haltReason) ? (status.haltReason as Halt['reason']) : 'fail';
  return { reason, message: status.haltMessage || status.message };
}

/** Throws InvalidInputError for a rollout that has ended: there is nothing to resume. */
export function planResume(status: Status): ResumePlan {
  if (isTerminal(status)) {
    throw new InvalidInputError(`rollout ${status.id} has already ended (${word(status.state)})`);
  }
  return {
    lanes: lanesOf(status),
    inFlight: status.hosts.filter((h) => IN_FLIGHT.has(h.state)).map((h) => h.hostId),
    halt: haltOf(status),
    abortedByOperator: status.abortedByOperator,
  };
}
