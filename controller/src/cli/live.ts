import type { msg } from '@fleetroll/shared';
import { soakingBatches } from '../../view/soak.js';
import { word } from '../../view/words.js';
import { batchLabel } from './status-format.js';
import { paint, truncate, type Color, type Segment, type StyledLine } from './styled.js';

type Status = msg.RolloutStatus__Output;
type Host = msg.HostStatus__Output;

export interface RenderOptions {
  /** The controller's clock now; by default the status' own last change, so a fixed status renders fixed. */
  now?: number;
  color?: boolean;
  /** The terminal's height: a block taller than the screen could not be redrawn in place. */
  maxLines?: number;
}

const DONE = new Set<string>(['HOST_SUCCEEDED', 'HOST_SKIPPED']);
const FAILED = new Set<string>(['HOST_FAILED', 'HOST_ROLLED_BACK']);
const IN_FLIGHT = new Set<string>(['HOST_PULLING', 'HOST_UPDATING', 'HOST_ROLLING_BACK']);

/**
 * HostStatus.step is the last step the agent reported; an operator wants what it is
 * doing now, and whether the slot is out of the load balancer while it does.
 */
const DOING: Readonly<Record<msg.Step__Output, string>> = {
  STEP_UNSPECIFIED: 'starting',
  HOST_STARTED: 'starting',
  IMAGE_READY: 'image ready',
  SLOT_STARTED: 'setting weight 0',
  WEIGHT_ZERO: 'draining, weight 0',
  DRAINED: 'stopping old, weight 0',
  OLD_STOPPED: 'starting new, weight 0',
  NEW_STARTED: 'waiting for healthy, weight 0',
  HEALTHY: 'restoring weight',
  WEIGHT_RESTORED: 'removing old',
  SLOT_DONE: 'next slot',
  SLOT_SKIPPED: 'next slot',
  ROLLING_BACK: 'rolling back slot',
  SLOT_FAILED: 'slot failed',
  HOST_DONE: 'finishing',
  HOST_FAILED: 'finishing',
  HOST_ABORTED: 'finishing',
};

const STATE_COLOR: Readonly<Record<string, Color>> = {
  running: 'cyan',
  succeeded: 'green',
  done: 'green',
  paused: 'yellow',
  pausing: 'yellow',
  waiting: 'dim',
  failed: 'red',
  aborted: 'red',
  'rolling back': 'red',
  'rolled back': 'red',
};

function stateSegment(state: string): Segment {
  const w = word(state);
  return [w, STATE_COLOR[w]];
}

export function duration(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  // From where one decimal would read "60.0s", whole seconds in minutes.
  if (s < 59.95) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/**
 * The live block of `fleetroll rollout status --watch` on a terminal: one progress
 * bar per group, the batches running now, every host in flight with its slot and
 * step, every failure with its reason. Pure, so that it is tested on fixed statuses.
 */
export function render(status: Status, width: number, options: RenderOptions = {}): string[] {
  const now = options.now ?? status.updatedAtMs;
  const fixed = [
    header(status, status.finishedAtMs || now),
    ...groupLines(status, width),
    ...batchLines(status),
    ...soakLines(status, now),
  ];
  const footer = footerLines(status);
  const budget = (options.maxLines ?? Infinity) - fixed.length - footer.length;
  const lines = [...fixed, ...hostLines(status, now, budget), ...footer];
  return lines
    .slice(0, options.maxLines ?? lines.length)
    .map((line) => paint(truncate(line, width), options.color ?? false));
}

function header(s: Status, now: number): StyledLine {
  return [
    ['rollout '],
    [s.id, 'bold'],
    ['  '],
    stateSegment(s.state),
    [`  ${s.image} via ${s.transport}, serial ${s.serial.join(',') || 'all'}  `],
    [duration(now - s.createdAtMs), 'dim'],
  ];
}

/** Done, failed and in-flight shares of a bar of `width` cells, the rest pending. */
function bar(done: number, failed: number, inFlight: number, total: number, width: number): Segment[] {
  const cut = (n: number) => (total === 0 ? 0 : Math.round((n / total) * width));
  const [a, b, c] = [cut(done), cut(done + failed), cut(done + failed + inFlight)];
  return [
    ['█'.repeat(a), 'green'],
    // Its own glyph, so that failures still show with NO_COLOR.
    ['▓'.repeat(b - a), 'red'],
    ['▒'.repeat(c - b), 'cyan'],
    ['░'.repeat(width - c), 'dim'],
  ];
}

function groupLines(s: Status, width: number): StyledLine[] {
  // A status without groups (an old controller) still gets one bar for all its hosts.
  const groups = s.groups.length > 0 ? s.groups : [undefined];
  const labels = groups.map((g) => (g ? g.group : 'hosts'));
  const labelWidth = Math.min(16, Math.max(...labels.map((l) => l.length)));
  const barWidth = Math.max(10, Math.min(40, width - labelWidth - 44));
  return groups.map((g, i) => {
    const hosts = g ? s.hosts.filter((h) => h.group === g.group) : s.hosts;
    const count = (set: ReadonlySet<string>) => hosts.filter((h) => set.has(h.state)).length;
    const [done, failed] = [count(DONE), count(FAILED)];
    const line: Segment[] = [
      [`  ${(labels[i] ?? '').padEnd(labelWidth)} `],
      ...bar(done, failed, count(IN_FLIGHT), hosts.length, barWidth),
      [` ${String(done).padStart(String(hosts.length).length)}/${hosts.length}`],
    ];
    if (g) {
      line.push([`  batch ${Math.min(g.currentBatch + 1, g.batchesTotal)}/${g.batchesTotal}  `]);
      line.push(stateSegment(g.state));
    }
    if (failed > 0) line.push([`, ${failed} failed`, 'red']);
    if (g?.pauseReason) line.push([` (${g.pauseReason})`, 'yellow']);
    return line;
  });
}

/** The batches running now: one, or one per group when groups run side by side. */
function batchLines(s: Status): StyledLine[] {
  const state = new Map(s.hosts.map((h) => [h.hostId, h.state]));
  return s.batches
    .filter((b) => b.startedAtMs > 0 && b.finishedAtMs === 0)
    .map((b) => {
      const line: Segment[] = [[`${batchLabel(s, b)}:`]];
      for (const id of b.hostIds) {
        const st = state.get(id) ?? '';
        line.push([` ${id}`]);
        if (DONE.has(st)) line.push(['✓', 'green']);
        else if (FAILED.has(st)) line.push(['✗', 'red']);
      }
      return line;
    });
}

/** A line for each batch waiting out its soak, with the time left. */
function soakLines(s: Status, now: number): StyledLine[] {
  const soakMs = s.request?.soakMs ?? 0;
  return soakingBatches(s, now).map((b) => [
    [`${batchLabel(s, b)} soaking: `],
    [`${duration(b.finishedAtMs + soakMs - now)} left`, 'bold'],
    [', then its hosts are checked again'],
  ]);
}

function doing(h: Host): string {
  if (h.state === 'HOST_PULLING') return 'pulling image';
  if (h.state === 'HOST_ROLLING_BACK') return `rolling back${h.slot ? ` ${h.slot}` : ''}`;
  if (!h.slot) return DOING[h.step];
  return `${h.slot} ${Math.min(h.slotsDone + 1, h.slotsTotal)}/${h.slotsTotal}  ${DOING[h.step]}`;
}

/**
 * Hosts in flight, then failures. When the screen is too short, failures are kept
 * and hosts in flight give way, since a failure is what an operator must act on.
 */
function hostLines(s: Status, now: number, budget: number): StyledLine[] {
  const inFlight = s.hosts.filter((h) => IN_FLIGHT.has(h.state));
  const failures = s.hosts.filter((h) => FAILED.has(h.state) && h.errorCode !== '');
  const all = inFlight.length + failures.length;
  const room = all > budget ? Math.max(0, budget - 1) : all;
  const shownFailures = failures.slice(0, room);
  const shownInFlight = inFlight.slice(0, room - shownFailures.length);
  const idWidth = Math.max(0, ...[...shownInFlight, ...shownFailures].map((h) => h.hostId.length));
  const lines: StyledLine[] = [
    ...shownInFlight.map((h): StyledLine => {
      const since = h.startedAtMs > 0 ? [[`  ${duration(now - h.startedAtMs)}`, 'dim'] as const] : [];
      return [['  ▸ ', 'cyan'], [`${h.hostId.padEnd(idWidth)}  ${doing(h)}`], ...since];
    }),
    ...shownFailures.map((h): StyledLine => [
      ['  ✗ ', 'red'],
      [`${h.hostId.padEnd(idWidth)}  `],
      [h.errorCode, 'red'],
      [`: ${h.message}`],
    ]),
  ];
  const hidden = all - shownInFlight.length - shownFailures.length;
  if (hidden > 0 && budget > 0) lines.push([[`  … ${hidden} more host${hidden === 1 ? '' : 's'}`, 'dim']]);
  return lines;
}

function footerLines(s: Status): StyledLine[] {
  const lines: StyledLine[] = [];
  // A success's message only repeats the closing line printed below the block.
  if (s.message && s.state !== 'ROLLOUT_SUCCEEDED') lines.push([[s.message, 'dim']]);
  if (s.state === 'ROLLOUT_PAUSED') {
    lines.push([[`paused: resume with fleetroll rollout resume ${s.id}`, 'yellow']]);
  }
  return lines;
}
