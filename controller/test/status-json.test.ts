import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rolloutsJson, statusJson, updateJson } from '../src/api/http/status-json.js';
import { frozenHost } from '../src/rollout/status.js';
import { host, status, stepEvent } from './status-fixtures.js';

const parsed = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

test('status JSON: the same document JSON.stringify writes, frozen hosts or not, change after change', () => {
  const first = status({
    message: 'a "quoted" \\ message with "hosts":[] in it',
    hosts: [frozenHost(host('h1', 'HOST_RUNNING', { slot: 'app1' })), host('h2', 'HOST_PENDING')],
  });
  const second = status({
    ...first,
    hosts: [first.hosts[0]!, frozenHost(host('h2', 'HOST_FAILED', { errorCode: 'HEALTH_CHECK' }))],
  });
  const steps = [stepEvent('DRAINED', { slot: 'app1', durationMs: 7 })];
  for (const s of [first, second, first]) {
    assert.deepEqual(JSON.parse(statusJson(s)), parsed(s));
    assert.deepEqual(JSON.parse(updateJson(s, steps)), parsed({ status: s, steps }));
  }
  assert.deepEqual(JSON.parse(rolloutsJson([first, second])), parsed({ rollouts: [first, second] }));
  assert.deepEqual(JSON.parse(rolloutsJson([])), { rollouts: [] });
});
