// Markdown tables for the fleet benches, so that their output can go into
// docs/benchmarks.md as it is.
import { cpus, loadavg, totalmem } from 'node:os';
import type { GapPart } from './host-gaps.js';
import type { RolloutTiming, SlotSample } from './timeline.js';

/** Nearest rank: with 10 values, p99 is the largest. */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
}

export const secs = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;
export const millis = (ms: number): string => `${Math.round(ms)} ms`;
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function machine(): string {
  const cpu = cpus();
  return (
    `${cpu.length} CPUs (${cpu[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
    `Node ${process.version}`
  );
}

// The times depend on what else the machine does; the load average says how busy it was.
export function busy(): string {
  const [one, five] = loadavg();
  return `load average ${one?.toFixed(2)} (1 min), ${five?.toFixed(2)} (5 min)`;
}

/**
 * `measuredFloorMs`: the critical path again, each host's time as its agent measured it (pre-pull and
 * slot windows), beside a bound from fixed step costs: what the controller costs over the agents' own work.
 */
export function wallTable(t: RolloutTiming, target?: number, measuredFloorMs?: number): string {
  const ratio = t.wallMs / t.floorMs;
  return [
    '| | |',
    '|---|---:|',
    `| wall time (StartRollout sent → ${t.complete ? 'rollout' : 'last batch'} finished) | ${secs(t.wallMs)} |`,
    `| lower bound (critical path, Σ over batches) | ${secs(t.floorMs)} |`,
    `| **ratio wall ÷ lower bound**${target ? ` (target ≤ ${target})` : ''} | **${ratio.toFixed(3)}** |`,
    ...(measuredFloorMs
      ? [
          `| critical path of the hosts as measured (Σ over batches of the slowest host's pre-pull + slot windows) | ${secs(measuredFloorMs)} |`,
          `| ratio wall ÷ measured critical path | ${(t.wallMs / measuredFloorMs).toFixed(3)} |`,
        ]
      : []),
    '',
  ].join('\n');
}

/** Cuts wall − floor into its parts along each batch's critical path. */
export function overheadTable(t: RolloutTiming): string {
  const b = t.batches;
  const perBatch = (name: string, of: (x: (typeof b)[number]) => number): string => {
    const v = b.map(of);
    return `| ${name} | ${secs(sum(v))} | ${millis(percentile(v, 0.5))} | ${millis(Math.max(...v))} |`;
  };
  const once = (name: string, ms: number): string => `| ${name} | ${secs(ms)} | | |`;
  const explained = t.leadInMs + t.betweenMs + t.leadOutMs + sum(b.map((x) => x.wallMs));
  return [
    `| over ${b.length} batches | total | median per batch | max per batch |`,
    '|---|---:|---:|---:|',
    once('before the first batch (StartRollout → batch 1 started; includes its pre-pull)', t.leadInMs),
    perBatch('batch wall (started → finished)', (x) => x.wallMs),
    perBatch('↳ lower bound of the batch', (x) => x.floorMs),
    perBatch('↳ dispatch of its last host (batch started → HOST_STARTED)', (x) => x.lastDispatchMs),
    perBatch('↳ that host HOST_STARTED → HOST_DONE, beyond the bound', (x) => x.lastRunMs - x.floorMs),
    perBatch('↳ tail (its HOST_DONE → batch finished)', (x) => x.tailMs),
    once('between batches (finished → next started)', t.betweenMs),
    once(
      `after the last batch (→ ${t.complete ? 'rollout finished' : 'given up: not measured'})`,
      t.leadOutMs,
    ),
    once('**wall − lower bound**', t.wallMs - t.floorMs),
    '',
    // The parts add up by construction; saying so catches a clock or bookkeeping mistake.
    `Check: the parts add up to ${secs(explained)} of the ${secs(t.wallMs)} wall time.`,
    '',
  ].join('\n');
}

export function dispatchTable(t: RolloutTiming, target?: number): string {
  const batch = t.batches.map((x) => x.dispatchMs);
  const row = (name: string, v: readonly number[]): string =>
    `| ${name} | ${v.length} | ${millis(percentile(v, 0.5))} | ${millis(percentile(v, 0.99))} | ${millis(Math.max(...v))} |`;
  return [
    `| dispatch latency${target ? ` (target p99 ≤ ${target} ms)` : ''} | n | p50 | p99 | max |`,
    '|---|---:|---:|---:|---:|',
    row('per batch: batch started → every host of it HOST_STARTED', batch),
    row('per host: its batch started → its HOST_STARTED', t.hostDispatchMs),
    '',
  ].join('\n');
}

/** One row per named set of values: how many, p50, p99 and max, beside a known fixed cost if any. */
function spreadRows(rows: readonly (readonly [string, readonly number[], number?])[]): string[] {
  return rows.map(([name, v, fixed]) => {
    const cost = fixed === undefined ? '' : ` ${millis(fixed)} |`;
    return `| ${name} |${cost} ${millis(percentile(v, 0.5))} | ${millis(percentile(v, 0.99))} | ${millis(Math.max(...v))} |`;
  });
}

type SlotPart = Exclude<keyof SlotSample, 'hostId' | 'slot'>;

/** The agents' own view of each slot; beside the fixed cost of each step when it is known (the sim). */
export function slotTable(samples: readonly SlotSample[], fixed?: Record<SlotPart, number>): string {
  const rows: [string, SlotPart][] = [
    ['window (WEIGHT_ZERO → WEIGHT_RESTORED)', 'windowMs'],
    ['drain', 'drainMs'],
    ['stop (old container)', 'stopMs'],
    ['start (create + start new)', 'startMs'],
    ['healthy', 'healthyMs'],
  ];
  const fixedHead = fixed ? ' fixed |' : '';
  return [
    `| slot step (${samples.length} slots) |${fixedHead} p50 | p99 | max |`,
    `|---|${fixed ? '---:|' : ''}---:|---:|---:|`,
    ...spreadRows(rows.map(([name, key]) => [name, samples.map((s) => s[key]), fixed?.[key]] as const)),
    '',
  ].join('\n');
}

/** Where a host's run goes outside its slots' windows, by the agents' timestamps. */
export function gapTable(gaps: Record<GapPart, number[]>): string {
  const rows: [string, GapPart][] = [
    ['before the first slot (HOST_STARTED → SLOT_STARTED: preflight)', 'beforeFirst'],
    ['each slot before its weight 0 (SLOT_STARTED → WEIGHT_ZERO)', 'lead'],
    ['each slot after its weight is back (WEIGHT_RESTORED → SLOT_DONE)', 'trail'],
    ['between slots (SLOT_DONE → next SLOT_STARTED)', 'between'],
    ['after the last slot (SLOT_DONE → HOST_DONE)', 'afterLast'],
  ];
  return [
    `| outside the slot windows (${gaps.beforeFirst.length} hosts) | p50 | p99 | max |`,
    '|---|---:|---:|---:|',
    ...spreadRows(rows.map(([name, key]) => [name, gaps[key]] as const)),
    '',
  ].join('\n');
}

/** Each batch's critical path, one row per batch. */
export function batchTable(t: RolloutTiming): string {
  return [
    '| batch | hosts | wall | lower bound | dispatch (all hosts) | last host | its dispatch | its run beyond bound | tail |',
    '|---:|---:|---:|---:|---:|---|---:|---:|---:|',
    ...t.batches.map(
      (b) =>
        `| ${b.index + 1} | ${b.hosts} | ${secs(b.wallMs)} | ${secs(b.floorMs)} | ${millis(b.dispatchMs)} | ` +
        `${b.lastHost} | ${millis(b.lastDispatchMs)} | ${millis(b.lastRunMs - b.floorMs)} | ${millis(b.tailMs)} |`,
    ),
    '',
  ].join('\n');
}
