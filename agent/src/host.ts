import pLimit from 'p-limit';
import {
  AgentBusyError,
  ImageMismatchError,
  UnknownSlotError,
  sameBuild,
  shortImageId,
  asFleetrollError,
  type AgentConfig,
  type HostDescription,
  type PrePullResult,
  type SlotConfig,
  type SlotStatus,
  type UpdateCommand,
} from '@fleetroll/shared';
import { stepEmitter, type EmitStep } from './events.js';
import { HaproxySight } from './haproxy-sight.js';
import { replaceSlot, type SlotOutcome } from './slot.js';
import type { SlotDeps } from './slot-deps.js';

export type HostOutcome = { status: 'done' | 'failed' | 'aborted'; slots: SlotOutcome[] };

export const AGENT_VERSION = '0.1.0';

/** The update in flight. Halting it ends its pull at once (nothing has changed yet) and its slots at the next boundary. */
interface Run {
  rolloutId: string;
  readonly halt: AbortController;
  done: Promise<unknown>;
}

/**
 * A host's slots in turn (or slotParallelism at a time). One update at a time per
 * host; a failed slot stops the host so that at most one slot's worth of damage
 * is ever done before the controller decides what to do.
 */
export class HostAgent {
  private active: Run | null = null;
  private readonly sight: HaproxySight;

  constructor(
    private readonly config: AgentConfig,
    private readonly deps: SlotDeps,
  ) {
    this.sight = new HaproxySight(deps.lb, deps.log);
  }

  get hostId(): string {
    return this.config.hostId;
  }

  async describe(): Promise<HostDescription> {
    const [slots] = await Promise.all([
      Promise.all(this.config.slots.map((slot) => this.slotStatus(slot))),
      this.sight.check(),
    ]);
    return {
      hostId: this.config.hostId,
      groups: this.config.groups,
      slots,
      activeRolloutId: this.active?.rolloutId ?? '',
      agentVersion: AGENT_VERSION,
      warnings: this.sight.warnings(),
    };
  }

  /** Says at start, in the log, when this agent cannot see HAProxy's processes (see HaproxySight). */
  checkHaproxySight(): Promise<void> {
    return this.sight.check();
  }

  /** What keeps this agent from doing its best, for Describe and the registry heartbeat. */
  warnings(): string[] {
    return this.sight.warnings();
  }

  async prePull(image: string, stop?: AbortSignal): Promise<PrePullResult> {
    const start = Date.now();
    const { pulled, buildIds } = await this.deps.runtime.ensureImage(image, stop);
    return { pulled, durationMs: Date.now() - start, imageIds: buildIds };
  }

  /** Asks the running update of that rollout to stop: its pull at once, its slots at the next boundary. */
  abort(rolloutId: string): boolean {
    if (!this.active || this.active.rolloutId !== rolloutId) return false;
    this.active.halt.abort();
    return true;
  }

  /**
   * Checks everything that can be checked before touching anything (slot ids,
   * containers, HAProxy servers, the image), so that bad input changes nothing.
   * Throws for those; once slots start, failures are reported as events instead.
   */
  async update(cmd: UpdateCommand, emit: EmitStep): Promise<HostOutcome> {
    if (this.active) {
      throw new AgentBusyError(
        `host ${this.hostId} is already updating for rollout ${this.active.rolloutId}`,
      );
    }
    const run: Run = {
      rolloutId: cmd.rolloutId,
      halt: new AbortController(),
      done: Promise.resolve(),
    };
    this.active = run;
    const done = (async () => {
      const slots = this.selectSlots(cmd.slots);
      await this.preflight(slots);
      return this.runSlots(slots, cmd, run, emit);
    })().finally(() => {
      this.active = null;
    });
    run.done = done.catch(() => undefined);
    return done;
  }

  /** For shutdown: lets the slot in flight finish, starts no other, and resolves when idle. */
  async stop(): Promise<void> {
    const run = this.active;
    if (!run) return;
    run.halt.abort();
    await run.done;
  }

  private async runSlots(
    slots: SlotConfig[],
    cmd: UpdateCommand,
    run: Run,
    emit: EmitStep,
  ): Promise<HostOutcome> {
    const log = this.deps.log.child({ rolloutId: cmd.rolloutId });
    // Every step also goes to the agent's own log: the host's audit trail, whoever was listening.
    // Sent first: the controller waits for the step, nobody waits for the log line.
    const emitAndLog: EmitStep = (e) => {
      emit(e);
      log.info({ slot: e.slot || undefined, step: e.step, at: e.atUnixMs, durationMs: e.durationMs }, 'step');
    };
    const hostStep = stepEmitter(emitAndLog, cmd.rolloutId, this.hostId);
    hostStep('HOST_STARTED', { message: `${slots.length} slots → ${cmd.image}` });

    let build: string;
    try {
      const pull = await this.prePull(cmd.image, run.halt.signal);
      if (cmd.imageIds.length > 0 && !sameBuild(pull.imageIds, cmd.imageIds)) {
        throw new ImageMismatchError(
          // Worded for both: a rollout pins the build its first host pulled, a rollback the one a slot ran.
          `${cmd.image} is ${shortImageId(pull.imageIds)} here, not ${shortImageId(cmd.imageIds)}, the build this ` +
            'update must install: the tag was pushed again since that build was chosen, or this host keeps another ' +
            'image under it; no slot was touched',
        );
      }
      hostStep('IMAGE_READY', {
        durationMs: pull.durationMs,
        message: pull.pulled ? 'pulled' : 'already present',
      });
      build = pull.imageIds[0] ?? '';
    } catch (err) {
      if (run.halt.signal.aborted) {
        hostStep('HOST_ABORTED', { message: `aborted while pulling ${cmd.image}; no slot was touched` });
        return { status: 'aborted', slots: [] };
      }
      const error = asFleetrollError(err);
      log.error({ code: error.code, err }, error.message);
      hostStep('HOST_FAILED', { errorCode: error.code, message: error.message });
      return { status: 'failed', slots: [] };
    }

    const deps: SlotDeps = { ...this.deps, log };
    const outcomes: SlotOutcome[] = [];
    let failed = false;
    const limit = pLimit(cmd.timings.slotParallelism);
    await Promise.all(
      slots.map((slot) =>
        limit(async () => {
          // Slot boundary: a failure elsewhere or an abort stops slots that have not begun.
          if (failed || run.halt.signal.aborted) return;
          const step = stepEmitter(emitAndLog, cmd.rolloutId, this.hostId, slot.id);
          const outcome = await replaceSlot(slot, cmd, deps, step, build).catch((err: unknown) => {
            const error = asFleetrollError(err);
            log.error({ slot: slot.id, code: error.code, err }, error.message);
            step('SLOT_FAILED', { errorCode: error.code, message: error.message });
            return { slot: slot.id, status: 'failed', error } as const;
          });
          outcomes.push(outcome);
          if (outcome.status === 'failed') failed = true;
        }),
      ),
    );

    if (failed) {
      const first = outcomes.find((o) => o.status === 'failed');
      hostStep('HOST_FAILED', {
        errorCode: first?.status === 'failed' ? first.error.code : '',
        message: first?.status === 'failed' ? `slot ${first.slot}: ${first.error.message}` : '',
      });
      return { status: 'failed', slots: outcomes };
    }
    if (run.halt.signal.aborted && outcomes.length < slots.length) {
      hostStep('HOST_ABORTED', { message: `aborted after ${outcomes.length} of ${slots.length} slots` });
      return { status: 'aborted', slots: outcomes };
    }
    hostStep('HOST_DONE', { message: `${outcomes.length} slots on ${cmd.image}` });
    return { status: 'done', slots: outcomes };
  }

  private selectSlots(ids: string[]): SlotConfig[] {
    if (ids.length === 0) return this.config.slots;
    return ids.map((id) => {
      const slot = this.config.slots.find((s) => s.id === id);
      if (!slot) {
        const known = this.config.slots.map((s) => s.id).join(', ');
        throw new UnknownSlotError(`host ${this.hostId} has no slot "${id}" (slots: ${known})`);
      }
      return slot;
    });
  }

  /** Reads only, all at once: every slot's check is on the way to the update's first step. */
  private async preflight(slots: SlotConfig[]): Promise<void> {
    await Promise.all(
      slots.flatMap((slot) => [
        this.deps.runtime.inspect(slot.container),
        this.deps.lb.serverStat(slot.backend, slot.server),
      ]),
    );
  }

  private async slotStatus(slot: SlotConfig): Promise<SlotStatus> {
    const [container, stat] = await Promise.all([
      this.deps.runtime.find(slot.container),
      this.deps.lb.serverStat(slot.backend, slot.server).catch(() => null),
    ]);
    return {
      slot: slot.id,
      container: slot.container,
      image: container?.image ?? '',
      imageId: container?.imageId ?? '',
      backend: slot.backend,
      server: slot.server,
      weight: stat?.weight ?? 0,
      lbStatus: stat?.status ?? 'unknown',
      containerState: container?.state ?? 'missing',
      health: container?.health ?? 'none',
      restartCount: container?.restartCount ?? 0,
      lbDownCount: stat?.downCount ?? 0,
    };
  }
}
