import {
  asFleetrollError,
  imageRefSchema,
  parseInput,
  rolloutIdSchema,
  toUpdateCommand,
  updateHostRequestSchema,
  type HostDescription,
  type Logger,
  type PrePullResult,
  type SlotTimings,
  type StepEvent,
} from '@fleetroll/shared';
import { z } from 'zod';
import { stepEmitter } from '../events.js';
import type { HostAgent } from '../host.js';

const prePullRequestSchema = z.strictObject({ image: imageRefSchema });
const abortRequestSchema = z.strictObject({ rolloutId: rolloutIdSchema });

const TERMINAL_STEPS: ReadonlySet<string> = new Set(['HOST_DONE', 'HOST_FAILED', 'HOST_ABORTED']);

/** Where an accepted update goes; each transport supplies its own. */
export interface UpdateSink {
  /** Called once, before the first event: the host took the update. */
  accepted(): void;
  event(event: StepEvent): void;
}

/**
 * The one place requests are validated and handed to HostAgent, whichever
 * transport carried them. Requests are `unknown` on purpose: the decoded wire
 * message is untrusted until its schema has passed.
 */
export interface AgentHandlers {
  describe(): Promise<HostDescription>;
  prePull(request: unknown): Promise<PrePullResult>;
  abort(request: unknown): Promise<{ accepted: boolean }>;
  /**
   * Rejects with the typed error when the host refuses the update (bad input,
   * busy, unknown slot, preflight failure): nothing was touched and no event was
   * sent. Once accepted it never rejects; it resolves after the terminal event.
   */
  update(request: unknown, sink: UpdateSink): Promise<void>;
  /** The rollout of the update running through these handlers, '' when idle (for heartbeats). */
  activeRolloutId(): string;
  /** The host's warnings as last checked (for heartbeats). */
  warnings(): string[];
}

export function agentHandlers(host: HostAgent, defaults: SlotTimings, log: Logger): AgentHandlers {
  let active = '';

  return {
    describe: () => host.describe(),

    prePull: async (request) => host.prePull(parseInput(prePullRequestSchema, request, 'PrePull').image),

    abort: async (request) => {
      const { rolloutId } = parseInput(abortRequestSchema, request, 'Abort');
      return { accepted: host.abort(rolloutId) };
    },

    update: async (request, sink) => {
      const cmd = toUpdateCommand(parseInput(updateHostRequestSchema, request, 'UpdateHost'), defaults);
      let accepted = false;
      let ended = false;
      // The slot workflow calls this mid-slot: a transport that throws (connection
      // closed) must cost the controller an event, never leave a slot half done.
      const deliver = (what: string, fn: () => void): void => {
        try {
          fn();
        } catch (err) {
          log.warn({ rolloutId: cmd.rolloutId, err }, `could not send ${what}`);
        }
      };
      const emit = (event: StepEvent): void => {
        if (!accepted) {
          accepted = true;
          active = cmd.rolloutId;
          deliver('the acceptance', () => sink.accepted());
        }
        ended ||= TERMINAL_STEPS.has(event.step);
        deliver(event.step, () => sink.event(event));
      };
      try {
        await host.update(cmd, emit);
      } catch (err) {
        const error = asFleetrollError(err);
        if (!accepted) {
          log.warn({ rolloutId: cmd.rolloutId, code: error.code }, `update refused: ${error.message}`);
          throw error;
        }
        // HostAgent reports failures as events once it has started; a rejection
        // now is a bug, but the controller must still get an end to its stream.
        log.error({ rolloutId: cmd.rolloutId, err }, 'update failed outside the slot workflow');
        const hostStep = stepEmitter(emit, cmd.rolloutId, host.hostId);
        if (!ended) hostStep('HOST_FAILED', { errorCode: error.code, message: error.message });
      } finally {
        if (accepted) active = '';
      }
    },

    activeRolloutId: () => active,
    warnings: () => host.warnings(),
  };
}
