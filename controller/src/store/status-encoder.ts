import { codecs, type msg } from '@fleetroll/shared';
import { copyHost, isTerminal } from '../rollout/status.js';

type Status = msg.RolloutStatus__Output;
type HostStatus = msg.HostStatus__Output;

interface EncodedHost {
  /** What was encoded, to tell whether the host changed since. */
  readonly seen: HostStatus;
  readonly bytes: Uint8Array;
}

/** Field by field, arrays of flat records included: all a HostStatus holds. */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  // Both are HostStatus (or SlotImage, SoakBaseline) records, with the same keys: one side's keys are enough.
  for (const key in x) if (!sameValue(x[key], y[key])) return false;
  return true;
}

/**
 * Encodes a rollout's RolloutStatus again and again as it changes, re-encoding only the hosts that
 * changed since the last time: a save of a thousand-host rollout would otherwise encode a thousand
 * hosts to record one step. Protobuf parses concatenated messages as one, repeated fields appended,
 * so the status without its hosts followed by each host's own `hosts` entry is the whole message.
 */
export class StatusEncoder {
  private readonly hosts = new Map<string, EncodedHost>();

  encode(status: Status): Uint8Array {
    const parts = [codecs.rolloutStatus.encode({ ...status, hosts: [] })];
    for (const host of status.hosts) parts.push(this.host(host));
    return Buffer.concat(parts);
  }

  private host(host: HostStatus): Uint8Array {
    const known = this.hosts.get(host.hostId);
    // A frozen host seen before cannot have changed since: a thousand comparisons a save saved.
    if (known && (known.seen === host || sameValue(known.seen, host))) return known.bytes;
    const bytes = codecs.rolloutStatus.encode({ hosts: [host] });
    this.hosts.set(host.hostId, { seen: Object.isFrozen(host) ? host : copyHost(host), bytes });
    return bytes;
  }
}

/**
 * One encoder per rollout, dropped once the rollout has ended: what a store or the gRPC service
 * keeps to encode a rollout's statuses. Only the few most recently encoded are kept, so that a
 * rollout whose end is never encoded here (it moved to another controller, nobody asked for it
 * again) does not stay for good; one rollout runs at a time.
 */
export class StatusEncoders {
  private readonly byRollout = new Map<string, StatusEncoder>();

  constructor(private readonly keep = 4) {}

  encode(status: Status): Uint8Array {
    const encoder = this.byRollout.get(status.id) ?? new StatusEncoder();
    // Deleted and set again: the Map's order is then the order of last use.
    this.byRollout.delete(status.id);
    if (!isTerminal(status)) {
      this.byRollout.set(status.id, encoder);
      const oldest = this.byRollout.keys().next().value;
      if (this.byRollout.size > this.keep && oldest !== undefined) this.byRollout.delete(oldest);
    }
    return encoder.encode(status);
  }

  /** The rollouts whose encoders are kept, least recently used first. */
  get rollouts(): string[] {
    return [...this.byRollout.keys()];
  }
}
