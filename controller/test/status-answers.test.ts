import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadControllerProto, type msg } from '@fleetroll/shared';
import { withIncrementalStatuses } from '../src/api/status-answers.js';
import { frozenHost } from '../src/rollout/status.js';
import { host, status, stepEvent } from './status-fixtures.js';

const plain = loadControllerProto().fleetroll.v1.ControllerService.service;

function running(over: Partial<msg.RolloutStatus__Output> = {}): msg.RolloutStatus__Output {
  return status({
    hosts: [host('h1', 'HOST_RUNNING', { slot: 'app1', step: 'DRAINED' }), host('h2', 'HOST_PENDING')].map(
      frozenHost,
    ),
    ...over,
  });
}

test('status answers: the incremental bytes decode to what proto-loader itself would send, change after change', () => {
  const service = withIncrementalStatuses(plain);
  const first = running();
  const second = running({
    updatedAtMs: 2_000,
    hosts: [
      first.hosts[0] as msg.HostStatus__Output,
      frozenHost(host('h2', 'HOST_RUNNING', { slot: 'app2' })),
    ],
  });
  for (const method of ['StartRollout', 'GetRollout', 'Pause', 'Resume', 'Abort'] as const) {
    for (const s of [first, second, first]) {
      const decode = plain[method].responseDeserialize;
      assert.deepEqual(
        decode(service[method].responseSerialize(s)),
        decode(plain[method].responseSerialize(s)),
        `${method}, hosts ${s.hosts.map((h) => h.state).join(', ')}`,
      );
    }
  }
});

test('status answers: a Watch update carries its steps and its status, or its steps alone', () => {
  const service = withIncrementalStatuses(plain);
  const steps = [
    stepEvent('WEIGHT_ZERO', { slot: 'app1' }),
    stepEvent('DRAINED', { slot: 'app1', durationMs: 7 }),
  ];
  const decode = plain.Watch.responseDeserialize;
  for (const update of [{ status: running(), steps }, { status: running(), steps: [] }, { steps }]) {
    assert.deepEqual(
      decode(service.Watch.responseSerialize(update)),
      decode(plain.Watch.responseSerialize(update)),
    );
  }
});
