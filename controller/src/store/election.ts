import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@fleetroll/shared';
import type { LeaderLock } from './lease.js';

export interface ElectionHandlers {
  /** This controller leads now: it resumes what the store holds. A throw gives the lock up again. */
  elected(): Promise<void>;
  /** It no longer leads: it stops acting at once (and touches no agent). */
  deposed(why: string): void;
  /**
   * Called at the steps while standing by (not while the last call is still under way): the
   * standby shows what the leader writes.
   */
  standingBy(): Promise<void>;
}

/**
 * Runs the leader lock: a leader renews it three times a lease, a standby looks at it every
 * second (or fifth of a lease), so it takes over about a lease after the leader died.
 */
export class Election {
  private stopped = false;
  private loop: Promise<void> | undefined;
  private reported = '';
  /** The takeover under way (resuming the store's rollouts), which the lock renewals must not wait for. */
  private taking: Promise<void> = Promise.resolve();
  /** The standby's read of the store under way, if any. */
  private refreshing: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly lock: LeaderLock,
    private readonly handlers: ElectionHandlers,
    private readonly log: Logger,
  ) {}

  get leading(): boolean {
    return this.lock.leading;
  }

  /** Who leads as far as this controller knows, for a standby's refusals. */
  leaderText(): string {
    if (this.lock.leading) return 'this controller leads';
    const leader = this.lock.leader;
    if (!leader) return 'no controller leads right now; retry in a few seconds';
    return `controller ${leader.address} (pid ${leader.pid} on ${leader.host}) leads`;
  }

  /**
   * Resolves after the first step: when this controller leads at once, after it resumed the
   * store's rollouts (so that a lone controller leads by the time it is said to be up); when it
   * stands by, after its first read of the store.
   */
  async start(): Promise<void> {
    if (this.loop) return;
    await this.step();
    await this.taking;
    this.loop = this.run();
    // The lock is stepped meanwhile, whatever the read does.
    await this.refreshing;
  }

  /** Gives the lock up, so that a standby takes over at once; call once this controller stopped acting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    await this.loop;
    await this.taking;
    await this.lock
      .release()
      .catch((err: unknown) => this.log.warn({ err }, 'could not release the leader lock'));
  }

  private async run(): Promise<void> {
    const { leaseMs } = this.lock;
    while (!this.stopped) {
      const pause = this.lock.leading ? leaseMs / 3 : Math.min(1_000, leaseMs / 5);
      await sleep(pause, undefined, { signal: this.stopping.signal }).catch(() => undefined);
      if (!this.stopped) await this.step();
    }
  }

  private async step(): Promise<void> {
    const change = await this.lock.step();
    this.report(this.lock.unreachable);
    if (change.kind === 'elected') this.taking = this.lead(change.how);
    else if (change.kind === 'deposed') this.depose(change.why);
    else if (!this.lock.leading) this.refresh();
  }

  /** One at a time, and never waited for by the next step: a slow read must not delay a takeover. */
  private refresh(): void {
    this.refreshing ??= this.handlers
      .standingBy()
      .catch((err: unknown) => this.log.warn({ err }, 'standby refresh failed'))
      .finally(() => {
        this.refreshing = undefined;
      });
  }

  /** Once per distinct failure, not at every step of an outage. */
  private report(err: Error | undefined): void {
    const text = err?.message ?? '';
    if (text === this.reported) return;
    this.reported = text;
    if (err) this.log.warn({ err }, `cannot reach the leader lock: ${text}`);
    else this.log.info('leader lock reachable again');
  }

  private async lead(how: string): Promise<void> {
    this.log.info(`leading: took the leader lock (${how})`);
    try {
      await this.handlers.elected();
    } catch (err) {
      this.log.error({ err }, 'could not take over the rollouts; giving the leader lock up');
      await this.lock.release().catch(() => undefined);
      this.handlers.deposed('taking over the rollouts failed');
    }
  }

  private depose(why: string): void {
    this.log.warn(`standing by: ${why}`);
    this.handlers.deposed(why);
  }
}
