import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { msg } from '@fleetroll/shared';
import { formatAgents } from '../src/cli/agents.js';

function agent(hostId: string, over: Partial<msg.AgentInfo__Output> = {}): msg.AgentInfo__Output {
  return {
    hostId,
    groups: ['eu'],
    grpcAddress: '',
    version: '0.1.0',
    lastSeenMs: 0,
    alive: true,
    activeRolloutId: '',
    sources: ['nats'],
    warnings: [],
    ...over,
  };
}

test('agents: one row per agent, then every warning an agent sent, in full, naming it', () => {
  const now = 1_000_000;
  const text = formatAgents(
    [
      agent('fe-01', { lastSeenMs: now - 1_500, activeRolloutId: 'r-1' }),
      agent('fe-002', { alive: false, groups: [], warnings: ['cannot see HAProxy', 'second'] }),
    ],
    now,
  );
  assert.equal(
    text,
    [
      'HOST    ALIVE  LAST SEEN  GROUPS  ROLLOUT',
      'fe-01   yes    1.5s ago   eu  r-1',
      'fe-002  NO     -          -  -',
      'warning: fe-002: cannot see HAProxy',
      'warning: fe-002: second',
      '',
    ].join('\n'),
  );
});
