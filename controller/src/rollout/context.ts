import type { FleetrollError, Logger } from '@fleetroll/shared';
import type { AgentDirectory } from '../transport/agent-client.js';
import type { AgentCall } from './agent-call.js';
import type { RolloutBuild, SlotBuild } from './builds.js';
import type { StatusLedger } from './ledger.js';
import type { RolloutSpec } from './spec.js';
import { groupOf, hostOf, isTerminal, type HostStatus } from './status.js';
import { Wakeup } from './wakeup.js';

/** Why no new host may start: an operator's abort, or the failure action. */
export interface Halt {
  readonly reason: 'abort' | 'fail' | 'rollback';
  readonly message: string;
}

/** The state the runners (lanes, batches, hosts, rollback) share with the Rollout that owns them. */
export class RolloutContext {
  halt: Halt | null = null;
  abortedByOperator = false;
  readonly wakeup = new Wakeup();
  /** Agent calls under way, by host, so that a pause or an abort can reach them. */
  readonly inFlight = new Map<string, AgentCall>();

  constructor(
    readonly spec: RolloutSpec,
    readonly agents: AgentDirectory,
    readonly log: Logger,
    readonly ledger: StatusLedger,
  ) {}

  host(hostId: string): Readonly<HostStatus> {
    return hostOf(this.ledger.live, hostId);
  }

  /**
   * Slot → what it ran before the rollout touched the host (from describe, kept in the status so
   * that a restarted controller has it too): what a rollback returns to. Undefined until described.
   */
  previousImages(hostId: string): ReadonlyMap<string, SlotBuild> | undefined {
    const previous = this.host(hostId).previousImages;
    return previous.length === 0 ? undefined : new Map(previous.map((p) => [p.slot, p]));
  }

  /** The rollout's image, and the build it stands for once the first host was prepared. */
  build(): RolloutBuild {
    return { image: this.spec.image, imageIds: this.ledger.live.imageIds };
  }

  /** Whether an update of this host may begin now. */
  canStart(hostId: string): boolean {
    const status = this.ledger.live;
    if (this.halt || isTerminal(status)) return false;
    return groupOf(status, this.host(hostId).group)?.pauseReason === '';
  }

  /** Asks the agents of the matching hosts to stop at their next slot boundary. */
  requestAborts(which: (host: Readonly<HostStatus>) => boolean): void {
    for (const [hostId, call] of this.inFlight) if (which(this.host(hostId))) call.requestAbort();
  }

  /** Logged here, once per failure, so that each failed host is one line an operator can search for. */
  async failHost(hostId: string, error: FleetrollError): Promise<void> {
    this.log.error({ hostId, code: error.code }, `${hostId}: ${error.message}`);
    await this.ledger.apply({
      kind: 'host-ended',
      hostId,
      state: 'HOST_FAILED',
      errorCode: error.code,
      message: error.message,
    });
  }
}
