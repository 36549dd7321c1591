import { h } from './dom.js';
import { duration, groupName } from './format.js';
import type { BatchStatus, Status } from './types.js';

type BatchTone = 'waiting' | 'running' | 'paused' | 'done' | 'failed';

function toneOf(batch: BatchStatus, status: Status): BatchTone {
  const hosts = status.hosts.filter((h) => batch.hostIds.includes(h.hostId));
  if (batch.startedAtMs === 0) return 'waiting';
  if (hosts.some((h) => h.state === 'HOST_FAILED')) return 'failed';
  if (batch.finishedAtMs > 0) return 'done';
  const groups = status.groups.filter((g) => hosts.some((h) => h.group === g.group));
  return groups.length > 0 && groups.every((g) => g.pauseReason !== '') ? 'paused' : 'running';
}

/**
 * The batches of each lane (a group, or all groups when they run one after another) on one time
 * axis from the rollout's start: when each batch ran, how long, and which are still to come.
 */
export function renderTimeline(status: Status, now: number): HTMLElement {
  const t0 = status.createdAtMs;
  const end = status.finishedAtMs || now;
  const span = Math.max(end - t0, 1_000);
  const lanes = [...new Set(status.batches.map((b) => b.group))];
  const rows = lanes.map((lane) => {
    const batches = status.batches.filter((b) => b.group === lane);
    const bars = batches
      .filter((b) => b.startedAtMs > 0)
      .map((b) => {
        const stop = b.finishedAtMs || end;
        const left = (100 * (b.startedAtMs - t0)) / span;
        const width = Math.max((100 * (stop - b.startedAtMs)) / span, 0.8);
        const batchTone = toneOf(b, status);
        const bar = h(
          'span',
          {
            class: `bar tone-${batchTone}`,
            'data-batch': b.index,
            title: `batch ${b.index + 1} (${batchTone}): ${b.hostIds.join(', ')} · ${duration(stop - b.startedAtMs)}`,
          },
          String(b.index + 1),
        );
        bar.style.left = `${left.toFixed(2)}%`;
        bar.style.width = `${width.toFixed(2)}%`;
        return bar;
      });
    const waiting = batches.filter((b) => b.startedAtMs === 0).length;
    return h(
      'div',
      { class: 'lane', 'data-lane': lane },
      h('span', { class: 'lane-name' }, groupName(lane)),
      h('span', { class: 'lane-track' }, ...bars),
      h(
        'span',
        { class: 'lane-note' },
        waiting > 0 ? `${waiting} of ${batches.length} to come` : `${batches.length} batches`,
      ),
    );
  });
  return h(
    'section',
    { class: 'timeline card', 'aria-label': 'Batch timeline' },
    h(
      'header',
      {},
      h('h2', {}, 'Batches'),
      h('span', { class: 'spacer' }),
      h('span', { class: 'axis' }, `0 → ${duration(end - t0)}`),
    ),
    ...rows,
  );
}
