import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRolloutList, summarize } from '../src/cli/rollout-list.js';
import { status } from './status-fixtures.js';

const group = (name: string, hostsTotal: number, hostsDone: number, hostsFailed: number) => ({
  group: name,
  state: 'GROUP_RUNNING' as const,
  currentBatch: 0,
  batchesTotal: 1,
  hostsTotal,
  hostsDone,
  hostsFailed,
  hostsInFlight: 0,
  pauseReason: '',
});

test('summarize adds up the groups', () => {
  const s = status({ groups: [group('eu', 4, 3, 1), group('us', 2, 2, 0)], createdAtMs: 5, finishedAtMs: 9 });
  assert.deepEqual(summarize(s), {
    id: 'r-1',
    image: 'app:v2',
    state: 'ROLLOUT_RUNNING',
    hostsTotal: 6,
    hostsDone: 5,
    hostsFailed: 1,
    createdAtMs: 5,
    finishedAtMs: 9,
  });
});

test('the list: a column per field, failures only where there are some, no time for a running rollout', () => {
  const t0 = Date.UTC(2026, 11, 7, 1, 50, 3);
  const out = formatRolloutList([
    summarize(
      status({ id: 'r-2', state: 'ROLLOUT_RUNNING', groups: [group('all', 6, 2, 0)], createdAtMs: t0 }),
    ),
    summarize(
      status({
        id: 'r-1',
        image: 'registry:5000/app:v1',
        state: 'ROLLOUT_PAUSED',
        groups: [group('all', 6, 3, 1)],
        createdAtMs: t0 - 60_000,
        finishedAtMs: t0 - 28_500,
      }),
    ),
  ]);
  assert.equal(
    out,
    [
      'ID   STATE    IMAGE                 HOSTS               STARTED (UTC)        TOOK',
      'r-2  running  app:v2                2/6 done            2026-12-07 01:50:03  -',
      'r-1  paused   registry:5000/app:v1  3/6 done, 1 failed  2026-12-07 01:49:03  31.5s',
      '',
    ].join('\n'),
  );
});

test('no rollouts: one line that says so', () => {
  assert.equal(formatRolloutList([]), 'no rollouts yet\n');
});
