import { soakingBatches } from '../view/soak.js';
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

function placed(bar: HTMLElement, from: number, to: number, t0: number, span: number): HTMLElement {
  bar.style.left = `${((100 * (from - t0)) / span).toFixed(2)}%`;
  bar.style.width = `${Math.max((100 * (to - from)) / span, 0.8).toFixed(2)}%`;
  return bar;
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
  const soakMs = status.request?.soakMs ?? 0;
  const soaking = soakingBatches(status, now);
  const rows = lanes.map((lane) => {
    const batches = status.batches.filter((b) => b.group === lane);
    const bars = batches
      .filter((b) => b.startedAtMs > 0)
      .map((b) => {
        const stop = b.finishedAtMs || end;
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
        return placed(bar, b.startedAtMs, stop, t0, span);
      });
    const soak = soaking.find((b) => b.group === lane);
    const left = soak ? `${duration(soak.finishedAtMs + soakMs - now)} left` : '';
    if (soak) {
      const title = `batch ${soak.index + 1} soaking: ${left}, then its hosts are checked again`;
      const bar = h('span', { class: 'bar tone-soaking', 'data-soaking': soak.index, title });
      bars.push(placed(bar, soak.finishedAtMs, now, t0, span));
    }
    const waiting = batches.filter((b) => b.startedAtMs === 0).length;
    return h(
      'div',
      { class: 'lane', 'data-lane': lane },
      h('span', { class: 'lane-name' }, groupName(lane)),
      h('span', { class: 'lane-track' }, ...bars),
      h(
        'span',
        { class: 'lane-note' },
        soak
          ? `soaking, ${left}`
          : waiting > 0
            ? `${waiting} of ${batches.length} to come`
            : `${batches.length} batches`,
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
