import type { msg } from '@fleetroll/shared';
import { slotNote } from '../../view/slot-note.js';
import { word } from '../../view/words.js';
import { FINAL_HOST_STATES } from '../rollout/status.js';
import { formatDuration } from '../rollout/timeout.js';
import { batchLabel, buildLine, formatOverrides } from './status-format.js';

type Status = msg.RolloutStatus__Output;

/**
 * Turns the stream of rollout updates into the lines an operator reads in a
 * terminal or a CI log: batches as they start, hosts as they change state, each
 * replaced slot with its weight-0 window, failures with their reasons. Pure, so
 * that what the CLI prints is tested without a controller.
 */
export class ProgressPrinter {
  private last: Status | undefined;
  private readonly startedAt: number;

  constructor(now = Date.now()) {
    this.startedAt = now;
  }

  /**
   * One update carries every change saved since the one before, so its lines go in the order
   * things happen: the agents' steps, hosts that ended, batches that began, hosts that began,
   * then groups and the rollout.
   */
  lines(update: msg.RolloutUpdate__Output, now = Date.now()): string[] {
    const status = update.status;
    if (!status) return [];
    const t = this.stamp(now);
    const prev = this.last;
    const out: string[] = prev ? [] : [header(status)];
    for (const step of update.steps) {
      const note = slotNote(step);
      if (step.step === 'WEIGHT_RESTORED') {
        out.push(
          `${t}   ${step.hostId} ${step.slot} replaced (weight 0 for ${(step.durationMs / 1000).toFixed(2)}s)`,
        );
      } else if (step.step === 'SLOT_FAILED') {
        out.push(`${t}   ${step.hostId} ${step.slot} FAILED ${step.errorCode}: ${step.message}`);
      } else if (note) {
        out.push(`${t}   ${step.hostId} ${step.slot} ${note}`);
      }
    }
    const before = new Map(prev?.hosts.map((h) => [h.hostId, h.state]));
    const unbegun = unbegunBatches(status);
    // Waiting is not news, but how a host's preparation ahead of its batch went is.
    const changed = status.hosts.filter((h) => {
      const was = before.get(h.hostId);
      if (was === h.state) return false;
      return h.state !== 'HOST_PENDING' || (was === 'HOST_PULLING' && unbegun.has(h.hostId));
    });
    const hostLines = (ended: boolean): string[] =>
      changed
        .filter((h) => FINAL_HOST_STATES.has(h.state) === ended)
        .map((h) => `${t} ${h.hostId} ${hostLine(h, unbegun.get(h.hostId))}`);
    out.push(...hostLines(true));
    const soakMs = status.request?.soakMs ?? 0;
    status.batches.forEach((b, i) => {
      const was = prev?.batches[i];
      const name = batchLabel(status, b);
      if (soakMs > 0 && isRunning(status) && b.finishedAtMs > 0 && !(was && was.finishedAtMs > 0)) {
        out.push(`${t} ${name} done; soaking ${formatDuration(soakMs)}, then its hosts are checked again`);
      }
      if (b.startedAtMs > 0 && !(was && was.startedAtMs > 0))
        out.push(`${t} ${name}: ${b.hostIds.join(' ')}`);
    });
    out.push(...hostLines(false));
    for (const g of status.groups) {
      const was = prev?.groups.find((p) => p.group === g.group);
      if (was && was.state !== g.state && status.groups.length > 1) {
        out.push(`${t} group ${g.group} ${word(g.state)}${g.pauseReason ? ` (${g.pauseReason})` : ''}`);
      }
    }
    if (status.imageIds.length > 0 && !prev?.imageIds.length) out.push(`${t} ${buildLine(status)}`);
    if (prev && prev.state !== status.state) {
      out.push(`${t} rollout ${word(status.state)}${status.message ? `: ${status.message}` : ''}`);
    }
    if (prev && !isRunning(prev) && isRunning(status)) out.push(`${t} rollout running again`);
    this.last = status;
    return out;
  }

  /** A line of the CLI's own (not from an update), stamped like the others. */
  note(text: string, now = Date.now()): string {
    return `${this.stamp(now)} ${text}`;
  }

  private stamp(now: number): string {
    return `[${((now - this.startedAt) / 1000).toFixed(1).padStart(6)}s]`;
  }
}

function isRunning(s: Status): boolean {
  return s.state === 'ROLLOUT_RUNNING';
}

function header(s: Status): string {
  const groups = s.groups.length > 1 ? ` in groups ${s.groups.map((g) => g.group).join(', ')}` : '';
  const overrides = formatOverrides(s.request?.options);
  const pauseAfter = s.request?.pauseAfter ?? [];
  return (
    `rollout ${s.id}: ${s.image} to ${s.hosts.length} hosts${groups}, ` +
    `${s.batches.length} batches (serial ${s.serial.join(',') || 'all'}) via ${s.transport}` +
    (pauseAfter.length > 0 ? `; pauses after batch ${pauseAfter.join(', ')}` : '') +
    (overrides ? `; slots: ${overrides}` : '')
  );
}

/** Hosts of batches that have not begun, with their batch: what happens to them now is its preparation. */
function unbegunBatches(s: Status): Map<string, string> {
  const batches = new Map<string, string>();
  for (const b of s.batches) {
    if (b.startedAtMs > 0) continue;
    const label = batchLabel(s, b);
    for (const id of b.hostIds) batches.set(id, label);
  }
  return batches;
}

function hostLine(h: msg.HostStatus__Output, unbegunBatch: string | undefined): string {
  // A host of a batch that has not begun is being prepared for it (described, its image pulled).
  if (unbegunBatch && h.state === 'HOST_PULLING') return `${word(h.state)} for ${unbegunBatch}`;
  if (unbegunBatch && h.state === 'HOST_PENDING') {
    const ready = h.previousImages.length > 0 ? 'ready' : 'not ready';
    return `${ready} for ${unbegunBatch}: ${h.message}`;
  }
  if (unbegunBatch && h.state === 'HOST_FAILED') {
    return `${word(h.state)} while preparing ${unbegunBatch}: ${h.errorCode} ${h.message}`;
  }
  const state = word(h.state);
  const slots = h.slotsTotal > 0 ? ` (${h.slotsDone}/${h.slotsTotal} slots)` : '';
  const why =
    h.message && (h.state === 'HOST_FAILED' || h.state === 'HOST_ROLLED_BACK')
      ? `: ${h.errorCode} ${h.message}`
      : '';
  return `${state}${slots}${why}`;
}

/** The closing line, and the exit status scripts rely on. */
export function outcome(s: Status): { line: string; exitCode: number } {
  const done = s.hosts.filter((h) => h.state === 'HOST_SUCCEEDED' || h.state === 'HOST_SKIPPED').length;
  const failed = s.hosts.filter((h) => h.state === 'HOST_FAILED').length;
  const took = s.finishedAtMs > 0 ? ` in ${((s.finishedAtMs - s.createdAtMs) / 1000).toFixed(1)}s` : '';
  const line = `rollout ${s.id} ${word(s.state)}: ${done}/${s.hosts.length} hosts on ${s.image}, ${failed} failed${took}`;
  switch (s.state) {
    case 'ROLLOUT_SUCCEEDED':
      return { line, exitCode: 0 };
    case 'ROLLOUT_PAUSED':
      return { line: `${line}; resume with: fleetroll rollout resume ${s.id}`, exitCode: EXIT_PAUSED };
    default:
      return { line, exitCode: 1 };
  }
}

/** Not a failure, not a success: the rollout waits for an operator. */
export const EXIT_PAUSED = 3;
