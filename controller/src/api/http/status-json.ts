import type { StepEvent, msg } from '@fleetroll/shared';

type Status = msg.RolloutStatus__Output;
type HostStatus = msg.HostStatus__Output;

/** Frozen hosts cannot change: each is written once, and again only once a newer one replaces it. */
const written = new WeakMap<HostStatus, string>();

function hostJson(host: HostStatus): string {
  if (!Object.isFrozen(host)) return JSON.stringify(host);
  let text = written.get(host);
  if (text === undefined) {
    text = JSON.stringify(host);
    written.set(host, text);
  }
  return text;
}

/**
 * A status as JSON, its frozen hosts written once for every answer and event that carries them: a
 * watched thousand-host rollout sends a status at every save, and most hosts are those of the last.
 */
export function statusJson(status: Status): string {
  const { hosts, ...rest } = status;
  // The rest after the hosts: `{"hosts":[…],` then the rest without its opening brace.
  return `{"hosts":[${hosts.map(hostJson).join(',')}],${JSON.stringify(rest).slice(1)}`;
}

/** A RolloutUpdate as JSON: the status, and the agent steps saved with it. */
export function updateJson(status: Status, steps: readonly StepEvent[]): string {
  return `{"status":${statusJson(status)},"steps":${JSON.stringify(steps)}}`;
}

/** The rollouts answer of the list: `{"rollouts":[…]}`. */
export function rolloutsJson(statuses: readonly Status[]): string {
  return `{"rollouts":[${statuses.map(statusJson).join(',')}]}`;
}
