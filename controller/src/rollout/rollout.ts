import { InvalidInputError, type InventoryHost, type Logger } from '@fleetroll/shared';
import type { AgentDirectory } from '../transport/agent-client.js';
import { word } from '../../view/words.js';
import { runLane } from './batch-runner.js';
import { RolloutContext } from './context.js';
import { haltRollout, pauseGroups, resumeGroups } from './control.js';
import { finalChange } from './finish.js';
import { StatusLedger, type RolloutListener } from './ledger.js';
import { planRollout, type Lane } from './plan.js';
import { reconcileHost } from './reconcile.js';
import { RolloutDetachedError } from './errors.js';
import { pauseAfterProblem } from './pause-after.js';
import { planResume } from './resume.js';
import { rollBack } from './rollback.js';
import type { RolloutSpec } from './spec.js';
import { specFromStatus } from './spec-record.js';
import { MemoryRolloutStore, type RolloutStore } from './store.js';
import {
  copyStatus,
  groupOf,
  initialStatus,
  isGroupFinished,
  isTerminal,
  openGroups,
  type Status,
} from './status.js';

export interface RolloutOptions {
  readonly store?: RolloutStore;
  /** Clock for every timestamp in the status. */
  readonly now?: () => number;
}

/** Where a rollout begins: the hosts to plan anew, or (Rollout.restore) a status saved before a restart. */
type Origin = readonly InventoryHost[] | { readonly resumeFrom: Status };

type Verb = 'pause' | 'resume' | 'abort';

/**
 * One rollout of an image over the hosts of a spec: serial batches, the failure action, pause and
 * resume per group, abort. Talks to agents only through the AgentDirectory, and records every
 * change in the RolloutStore before acting on it.
 */
export class Rollout {
  readonly id: string;
  private readonly ctx: RolloutContext;
  private readonly lanes: readonly Lane[];
  /** Hosts a resumed rollout must ask their agents about first; undefined for a new rollout. */
  private readonly inFlight: readonly string[] | undefined;
  private running: Promise<Status> | undefined;
  private begun: Promise<void> | undefined;

  /** Throws InvalidInputError for a group no host is in, or a spec that selects no host. */
  constructor(
    spec: RolloutSpec,
    origin: Origin,
    agents: AgentDirectory,
    log: Logger,
    options: RolloutOptions = {},
  ) {
    const now = options.now ?? Date.now;
    // A caller that bound rolloutId already would otherwise get it twice on every line.
    const bound = 'rolloutId' in log.bindings() ? log : log.child({ rolloutId: spec.id });
    const store = options.store ?? new MemoryRolloutStore();
    if ('resumeFrom' in origin) {
      const resume = planResume(origin.resumeFrom);
      const ledger = new StatusLedger(copyStatus(origin.resumeFrom), store, now, bound);
      this.ctx = new RolloutContext(spec, agents, bound, ledger);
      this.ctx.halt = resume.halt;
      this.ctx.abortedByOperator = resume.abortedByOperator;
      this.lanes = resume.lanes;
      this.inFlight = resume.inFlight;
    } else {
      const plan = planRollout(spec, origin);
      if (plan.hosts.length === 0) throw new InvalidInputError(`rollout ${spec.id} selects no hosts`);
      const late = pauseAfterProblem(spec.pauseAfter, plan.lanes);
      if (late) throw new InvalidInputError(`invalid rollout request: ${late}`);
      const status = initialStatus(spec, plan, agents.transport, now());
      this.ctx = new RolloutContext(spec, agents, bound, new StatusLedger(status, store, now, bound));
      this.lanes = plan.lanes;
    }
    this.id = spec.id;
  }

  /**
   * A rollout a previous controller saved and did not finish, to run on from where it stood: the
   * spec comes from the status. Hosts that ended are not touched again; hosts that were in flight
   * are asked for their real state first; the rest runs as usual, and a paused rollout stays
   * paused. Throws InvalidInputError for a status that has ended or holds no request.
   */
  static restore(status: Status, agents: AgentDirectory, log: Logger, options: RolloutOptions = {}): Rollout {
    return new Rollout(specFromStatus(status), { resumeFrom: status }, agents, log, options);
  }

  /** A copy: changing it changes nothing. */
  status(): Status {
    return this.ctx.ledger.copy();
  }

  /** The status to read and send, not to change: its hosts are frozen and shared with later ones. */
  snapshot(): Status {
    return this.ctx.ledger.snapshot();
  }

  /** Called after every saved change, with the agent step that caused it when there was one. */
  onChange(listener: RolloutListener): () => void {
    return this.ctx.ledger.subscribe(listener);
  }

  /**
   * Runs to the end: resolves with the final status (succeeded, failed, aborted or rolled back),
   * never while paused. Rejects only when the RolloutStore fails (STORE_FAILED) or detach() was
   * called (ROLLOUT_DETACHED). Calling it again gives the same run.
   */
  run(): Promise<Status> {
    this.running ??= this.execute();
    return this.running;
  }

  /**
   * Starts the run (as run() does) and resolves once the rollout is in the store: from then on a
   * restarted controller knows of it. Rejects when that first save fails.
   */
  begin(): Promise<void> {
    void this.run().catch(() => undefined);
    return this.firstSave();
  }

  /** No new host of the group (every group when none is named) starts; hosts in flight stop at a slot boundary. */
  pause(group?: string): Status {
    this.check('pause', group);
    if (group !== undefined && isGroupFinished(this.ctx.ledger.view, group)) {
      throw new InvalidInputError(
        `group ${group} of rollout ${this.id} has already finished; there is nothing to pause`,
      );
    }
    const groups = group === undefined ? openGroups(this.ctx.ledger.view) : [group];
    const reason = group === undefined ? 'paused by operator' : `group ${group} paused by operator`;
    this.act(pauseGroups(this.ctx, groups, reason));
    return this.status();
  }

  /** Continues the group (every group when none is named), whoever paused it. */
  resume(group?: string): Status {
    this.check('resume', group);
    const groups = group === undefined ? this.ctx.ledger.view.groups.map((g) => g.group) : [group];
    this.act(resumeGroups(this.ctx, groups));
    return this.status();
  }

  /**
   * Stops acting on the rollout without touching an agent (another controller leads now and
   * resumes it): nothing more is saved, sent or started, and run() rejects with ROLLOUT_DETACHED.
   * What the agents are doing goes on; the next leader finds it in flight. Resolves once the saves
   * under way have ended: only then does the store hold this controller's last word. With `flush`
   * (a controller stopping in good order, still holding the lead) progress not saved yet is saved first.
   */
  async detach(why: string, flush = false): Promise<void> {
    if (flush) await this.ctx.ledger.flush();
    this.ctx.ledger.stop(new RolloutDetachedError(`rollout ${this.id} left to another controller: ${why}`));
    this.ctx.wakeup.wake();
    return this.ctx.ledger.settled();
  }

  /** No new host starts, hosts in flight stop at a slot boundary; run() then ends ABORTED. */
  abort(): Status {
    this.check('abort');
    if (!this.ctx.abortedByOperator) {
      this.ctx.abortedByOperator = true;
      this.act(haltRollout(this.ctx, { reason: 'abort', message: 'aborted by operator' }));
    }
    return this.status();
  }

  private async execute(): Promise<Status> {
    const { ctx } = this;
    await this.firstSave();
    if (this.inFlight !== undefined) {
      const reconciled = Promise.all(this.inFlight.map((id) => reconcileHost(ctx, id)));
      await Promise.race([reconciled, ctx.ledger.failed]);
    }
    await Promise.race([this.runLanes(), ctx.ledger.failed]);
    const rollingBack = ctx.halt?.reason === 'rollback' && !ctx.abortedByOperator;
    const unrolled = rollingBack ? await rollBack(ctx) : [];
    await ctx.ledger.apply(finalChange(ctx, unrolled));
    return this.status();
  }

  private firstSave(): Promise<void> {
    this.begun ??= this.ctx.ledger.apply({ kind: this.inFlight === undefined ? 'created' : 'restored' });
    return this.begun;
  }

  private async runLanes(): Promise<void> {
    if (!this.ctx.spec.groupsInSequence) {
      await Promise.all(this.lanes.map((lane) => runLane(this.ctx, lane)));
      return;
    }
    // A lane ends early when the rollout halts; the next one then starts nothing either.
    for (const lane of this.lanes) await runLane(this.ctx, lane);
  }

  private check(verb: Verb, group?: string): void {
    const status = this.ctx.ledger.view;
    const failure = this.ctx.ledger.failure;
    if (failure) throw failure;
    if (isTerminal(status)) {
      throw new InvalidInputError(
        `rollout ${this.id} has already finished (${word(status.state)}); there is nothing to ${verb}`,
      );
    }
    if (verb !== 'abort' && status.state === 'ROLLOUT_ROLLING_BACK') {
      throw new InvalidInputError(`rollout ${this.id} is rolling back; it can be aborted, not ${verb}d`);
    }
    if (verb !== 'abort' && this.ctx.halt) {
      throw new InvalidInputError(
        `rollout ${this.id} is stopping (${this.ctx.halt.message}); it can no longer be ${verb}d`,
      );
    }
    if (group !== undefined && !groupOf(status, group)) {
      const names = status.groups.map((g) => g.group).join(', ');
      throw new InvalidInputError(`unknown group ${JSON.stringify(group)} (rollout ${this.id} has ${names})`);
    }
  }

  /**
   * The change is already in the status the caller gets back; the agents are asked once it is saved.
   * A failed save is logged by the ledger and ends run(), so it needs no handling here.
   */
  private act(work: Promise<void>): void {
    work.catch(() => undefined);
  }
}
