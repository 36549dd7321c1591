import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteError, asFleetrollError, type msg } from '@fleetroll/shared';
import { isTerminal } from '../rollout/status.js';
import type { ControllerApi } from './controller-api.js';
import type { Io } from './io.js';
import { LiveView } from './live-view.js';
import { ProgressPrinter, outcome } from './progress.js';

type Status = msg.RolloutStatus__Output;
type Api = Pick<ControllerApi, 'watch' | 'address'>;

export interface FollowOptions {
  /** Log lines only, even on a terminal. */
  plain: boolean;
  /**
   * How long a controller that went away mid-rollout is looked for: one restarted by its
   * supervisor, or a standby that took over behind the same address, goes on with the rollout.
   */
  reattachMs?: number;
  /** How often it is looked for meanwhile. */
  probeMs?: number;
}

const REATTACH_MS = 60_000;
const PROBE_MS = 500;

/**
 * Follows the rollout until it ends or pauses, printing progress; the exit code says how it
 * ended (0 succeeded, 1 failed/aborted/rolled back, 3 paused). On a terminal the log lines
 * scroll above a live block redrawn in place; anywhere else (a pipe, a CI log, --plain) only
 * the log lines are written. A watch that breaks before the end (the controller restarted) is
 * taken up again when the controller answers, so a script's `rollout start` outlives it.
 */
export async function follow(api: Api, id: string, io: Io, options: FollowOptions): Promise<number> {
  const printer = new ProgressPrinter();
  const live = io.terminal && !options.plain ? new LiveView((text) => io.out(text), io.terminal) : undefined;
  let shown: Status | null = null;
  const print = (lines: string[]) => {
    if (live) live.show(lines, shown);
    else for (const line of lines) io.out(`${line}\n`);
  };
  let final: Status;
  try {
    final = await watchToEnd(api, id, {
      update: (update) => {
        shown = update.status ?? shown;
        print(printer.lines(update));
      },
      note: (text) => print([printer.note(text)]),
      reattachMs: options.reattachMs ?? REATTACH_MS,
      probeMs: options.probeMs ?? PROBE_MS,
    });
  } finally {
    live?.close();
  }
  const { line, exitCode } = outcome(final);
  io.out(`${line}\n`);
  return exitCode;
}

interface Watcher {
  update(update: msg.RolloutUpdate__Output): void;
  /** A line of the command's own: the controller lost, and back. */
  note(text: string): void;
  reattachMs: number;
  probeMs: number;
}

const settled = (s: Status) => isTerminal(s) || s.state === 'ROLLOUT_PAUSED';

/** Watches, and watches again after a break, until the rollout ends or pauses; returns that status. */
async function watchToEnd(api: Api, id: string, w: Watcher): Promise<Status> {
  let last: Status | undefined;
  let lostAtMs = 0;
  for (;;) {
    const broke = await api
      .watch(id, (update) => {
        if (lostAtMs > 0) {
          w.note(`the controller answers again after ${((Date.now() - lostAtMs) / 1000).toFixed(1)}s`);
          lostAtMs = 0;
        }
        last = update.status ?? last;
        w.update(update);
        return last?.state !== 'ROLLOUT_PAUSED';
      })
      .then(
        () => undefined,
        (err: unknown) => asFleetrollError(err),
      );
    if (last && settled(last)) return last;
    // A stream that ended short of the end without an error broke all the same.
    const lost =
      broke ?? new RemoteError('CONTROLLER_UNREACHABLE', `the controller ended the watch of ${id}`);
    // Never followed, or not the connection: the operator hears it as it is.
    if (!last || lost.code !== 'CONTROLLER_UNREACHABLE') throw lost;
    if (lostAtMs === 0) {
      lostAtMs = Date.now();
      w.note(`lost the controller (${lost.message}); following on once it answers`);
    } else if (Date.now() - lostAtMs > w.reattachMs) {
      throw new RemoteError(
        'CONTROLLER_UNREACHABLE',
        `lost the controller at ${api.address} and it has not answered for ${w.reattachMs / 1000} s; ` +
          `the rollout may go on without this command: fleetroll rollout status ${id}`,
        { cause: lost },
      );
    }
    await sleep(w.probeMs);
  }
}
