import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { msg } from '@fleetroll/shared';
import { exceedsMaxFail } from '../src/index.js';
import { NEW, OLD, harness, hostState, inventory, until } from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;

const host = (status: Status, id: string) => {
  const found = status.hosts.find((h) => h.hostId === id);
  assert.ok(found, `no host ${id}`);
  return found;
};

test('failure policy: strictly above max fail triggers, exactly at it does not', () => {
  assert.equal(exceedsMaxFail(0, 3, 0), false);
  assert.equal(exceedsMaxFail(1, 3, 0), true);
  assert.equal(exceedsMaxFail(1, 4, 25), false);
  assert.equal(exceedsMaxFail(2, 4, 25), true);
  assert.equal(exceedsMaxFail(1, 3, 33), true);
  assert.equal(exceedsMaxFail(1, 3, 34), false);
  assert.equal(exceedsMaxFail(1, 1, 100), false);
});

test('failure policy: a batch exactly at max_fail goes on; the rollout still ends failed', async () => {
  const { rollout, fleet } = harness({ serial: ['4'], maxFail: '25%' }, inventory(8));
  fleet.script('h01', { update: 'fail' });
  const final = await rollout.run();
  assert.equal(fleet.updated().length, 8);
  assert.equal(final.state, 'ROLLOUT_FAILED');
  assert.equal(final.message, '1 of 8 hosts failed: h01');
  assert.equal(host(final, 'h01').state, 'HOST_FAILED');
  assert.equal(host(final, 'h01').errorCode, 'HEALTH_CHECK_FAILED');
  assert.equal(host(final, 'h08').state, 'HOST_SUCCEEDED');
});

test('failure policy: above max_fail pauses (the default) with the hosts and reasons; resume goes on', async () => {
  const { rollout, fleet } = harness({ serial: ['4'], maxFail: '25%' }, inventory(8));
  fleet.script('h01', { update: 'fail' });
  fleet.script('h02', { update: { reject: 'AGENT_UNREACHABLE' } });
  let ended = false;
  const run = rollout.run().finally(() => (ended = true));
  await until(() => rollout.status().state === 'ROLLOUT_PAUSED', 'the failure pause');
  await sleep(20);
  assert.equal(ended, false, 'PAUSED is not an end');
  // h02's agent was asked again each time it answered after the loss, until it had vanished too often.
  assert.deepEqual(sortedUpdates([...new Set(fleet.updated())]), ['h01', 'h02', 'h03', 'h04']);
  const paused = rollout.status();
  for (const group of paused.groups) {
    assert.equal(group.state, 'GROUP_PAUSED');
    assert.match(group.pauseReason, /^batch 1: 2 of 4 hosts failed, over the 25% allowed: /);
    assert.match(
      group.pauseReason,
      /h01 \(HEALTH_CHECK_FAILED: .*h02 \(AGENT_UNREACHABLE: .*AGENT_UNREACHABLE from h02\)/,
    );
  }
  assert.equal(paused.message, paused.groups[0]?.pauseReason);
  assert.equal(paused.batches[1]?.startedAtMs, 0, 'the next batch has not begun');

  const resumed = rollout.resume();
  assert.equal(resumed.state, 'ROLLOUT_RUNNING');
  const final = await run;
  assert.equal(fleet.updated().filter((h) => h === 'h01').length, 1, 'a failed host stays failed');
  assert.equal(host(final, 'h01').state, 'HOST_FAILED');
  assert.equal(host(final, 'h08').state, 'HOST_SUCCEEDED');
  assert.equal(final.state, 'ROLLOUT_FAILED');
});

function sortedUpdates(ids: string[]): string[] {
  return [...ids].sort();
}

test('failure policy: abort fails the rollout and starts no further batch', async () => {
  const { rollout, fleet } = harness({ serial: ['2'], failureAction: 'ABORT' }, inventory(4));
  fleet.script('h02', { update: 'fail' });
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_FAILED');
  assert.match(
    final.message,
    /^batch 1: 1 of 2 hosts failed, over the 0% allowed: h02 \(HEALTH_CHECK_FAILED/,
  );
  assert.deepEqual(sortedUpdates(fleet.updated()), ['h01', 'h02']);
  assert.deepEqual(
    final.hosts.map((h) => h.state),
    ['HOST_SUCCEEDED', 'HOST_FAILED', 'HOST_SKIPPED', 'HOST_SKIPPED'],
  );
  assert.equal(host(final, 'h03').message, 'not started: the rollout failed');
  assert.deepEqual(
    final.groups.map((g) => g.state),
    ['GROUP_FAILED'],
  );
});

test('failure policy: rollback returns every host the rollout changed to its previous image(s)', async () => {
  const OLDER = 'registry:5000/app:v0';
  const { rollout, fleet } = harness({ serial: ['2'], failureAction: 'ROLLBACK' }, inventory(6));
  fleet.script('h02', {
    slots: [
      { id: 'a', image: OLD },
      { id: 'b', image: OLDER },
    ],
  });
  fleet.script('h03', { update: 'fail', failAt: 1 });
  const states = new Set<string>();
  rollout.onChange((status) => {
    states.add(status.state);
    for (const h of status.hosts) states.add(h.state);
  });
  const final = await rollout.run();

  assert.equal(final.state, 'ROLLOUT_ROLLED_BACK');
  assert.match(final.message, /^rolled back: batch 2: 1 of 2 hosts failed/);
  assert.ok(states.has('ROLLOUT_ROLLING_BACK') && states.has('HOST_ROLLING_BACK'));
  const rollbacks = fleet.calls
    .filter((c) => c.kind === 'update' && c.image !== NEW)
    .map((c) => `${c.host} ${c.image} ${c.slots?.join(',')}`)
    .sort();
  assert.deepEqual(rollbacks, [
    `h01 ${OLD} a,b`,
    `h02 ${OLDER} b`,
    `h02 ${OLD} a`,
    // h03 failed on slot b, but slot a had been replaced: it is returned too.
    `h03 ${OLD} a,b`,
    `h04 ${OLD} a,b`,
  ]);
  for (const id of ['h01', 'h02', 'h03', 'h04']) {
    assert.equal(host(final, id).state, 'HOST_ROLLED_BACK', id);
  }
  assert.equal(host(final, 'h03').errorCode, 'HEALTH_CHECK_FAILED');
  assert.match(host(final, 'h03').message, /^back on .*; the update had failed: /);
  assert.deepEqual(
    [...fleet.agent('h02').images],
    [
      ['a', OLD],
      ['b', OLDER],
    ],
  );
  assert.deepEqual([...fleet.agent('h03').images.values()], [OLD, OLD]);
  assert.deepEqual([host(final, 'h05').state, host(final, 'h06').state], ['HOST_SKIPPED', 'HOST_SKIPPED']);
  assert.equal(fleet.updated().filter((h) => h === 'h05').length, 0);
});

test('failure policy: a tag deployed again under its own name rolls back to the build each slot ran, by its id', async () => {
  const PROD = 'registry:5000/app:prod';
  const [V1, V2] = ['1', '2'].map((d) => `sha256:${d.repeat(64)}`) as [string, string];
  const request = { image: PROD, serial: ['1'], failureAction: 'ROLLBACK' as const };
  const { rollout, fleet } = harness(request, inventory(3), {
    script: {
      slots: [
        { id: 'a', image: PROD },
        { id: 'b', image: PROD },
      ],
    },
  });
  fleet.moveTag(PROD, V1);
  // The new build is pushed under the same name: every slot still runs the old one.
  fleet.moveTag(PROD, V2);
  fleet.script('h02', { update: 'fail', failAt: 1 });
  const final = await rollout.run();

  assert.equal(final.state, 'ROLLOUT_ROLLED_BACK', final.message);
  const rollbacks = fleet.calls
    .filter((c) => c.kind === 'update' && c.image !== PROD)
    .map((c) => `${c.host} ${c.image} ${c.slots?.join(',')} [${c.imageIds?.join(',')}]`);
  assert.deepEqual(rollbacks.sort(), [`h01 ${V1} a,b [${V1}]`, `h02 ${V1} a,b [${V1}]`]);
  for (const id of ['h01', 'h02']) {
    assert.deepEqual([fleet.agent(id).buildOf('a'), fleet.agent(id).buildOf('b')], [V1, V1], id);
    assert.equal(host(final, id).state, 'HOST_ROLLED_BACK', id);
  }
  assert.match(
    host(final, 'h01').message,
    /^back on registry:5000\/app:prod as it was \(sha256:111111111111\)$/,
  );
  assert.equal(host(final, 'h03').state, 'HOST_SKIPPED');
});

test('failure policy: a rollback to a tag pins the build the slots ran: the agent refuses a tag moved since', async () => {
  const [V1, V2] = ['1', '2'].map((d) => `sha256:${d.repeat(64)}`) as [string, string];
  const { rollout, fleet } = harness({ serial: ['1'], failureAction: 'ROLLBACK' }, inventory(2));
  fleet.moveTag(OLD, V1);
  fleet.moveTag(NEW, V2);
  fleet.script('h02', { update: 'fail', failAt: 0 });
  const final = await rollout.run();

  const rollback = fleet.calls.find((c) => c.kind === 'update' && c.image === OLD);
  assert.deepEqual(rollback?.imageIds, [V1]);
  assert.equal(final.state, 'ROLLOUT_ROLLED_BACK', final.message);
  assert.equal(host(final, 'h01').message, `back on ${OLD}`);
  assert.deepEqual([fleet.agent('h01').buildOf('a'), fleet.agent('h01').buildOf('b')], [V1, V1]);
});

test('failure policy: a rollback that fails on a host ends the rollout failed, naming it', async () => {
  const { rollout, fleet } = harness({ serial: ['1'], failureAction: 'ROLLBACK' }, inventory(2));
  fleet.script('h02', { update: 'fail', failAt: 0 });
  rollout.onChange((status) => {
    if (status.state === 'ROLLOUT_ROLLING_BACK')
      fleet.script('h01', { update: { reject: 'AGENT_UNREACHABLE' } });
  });
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_FAILED');
  assert.match(final.message, /^rollback incomplete; not rolled back: h01; batch 2:/);
  assert.equal(host(final, 'h01').state, 'HOST_FAILED');
  assert.match(
    host(final, 'h01').message,
    new RegExp(`^rollback to ${OLD} failed: AGENT_UNREACHABLE from h01`),
  );
});

// max_fail 100% keeps a slow test machine, where a healthy host may time out too, from pausing the rollout.
test('host timeout: the agent is asked to abort and the host fails; the rollout goes on', async () => {
  const { rollout, fleet } = harness({ serial: ['2'], maxFail: '100%', hostTimeoutMs: 100 }, inventory(4));
  fleet.script('h02', { update: 'hang' });
  const final = await rollout.run();
  assert.ok(fleet.index('h02', 'abort') > fleet.index('h02', 'update'));
  const h02 = host(final, 'h02');
  assert.equal(h02.state, 'HOST_FAILED');
  assert.equal(h02.errorCode, 'HOST_TIMEOUT');
  assert.match(h02.message, /after 100 ms; asked the agent to stop at its next slot boundary/);
  assert.equal(fleet.updated().length, 4);
  assert.equal(final.state, 'ROLLOUT_FAILED');
});

test('host timeout: a pre-pull that never answers fails the host, not the batch', async () => {
  const { rollout, fleet } = harness({ maxFail: '100%', hostTimeoutMs: 100 }, inventory(2));
  fleet.script('h01', { prePull: 'hang' });
  const final = await rollout.run();
  assert.equal(host(final, 'h01').errorCode, 'HOST_TIMEOUT');
  assert.equal(host(final, 'h01').message, `pre-pull of ${NEW} did not finish within 100 ms`);
  assert.deepEqual(fleet.updated(), ['h02']);
});

test('rejected update: the host fails with the code and message; under max_fail the rollout goes on', async () => {
  const { rollout, fleet, lines } = harness({ serial: ['2'], maxFail: '50%' }, inventory(4));
  fleet.script('h01', { update: { reject: 'AGENT_BUSY' } });
  const final = await rollout.run();
  const h01 = host(final, 'h01');
  assert.deepEqual(
    [h01.state, h01.errorCode, h01.message],
    ['HOST_FAILED', 'AGENT_BUSY', 'AGENT_BUSY from h01'],
  );
  assert.equal(fleet.updated().length, 4);
  const errors = lines.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, 'one log line per failure');
  assert.deepEqual([errors[0]?.rolloutId, errors[0]?.hostId, errors[0]?.code], ['r1', 'h01', 'AGENT_BUSY']);
});

test('rejected update: over max_fail it triggers the failure action', async () => {
  const { rollout, fleet } = harness({ serial: ['2'], failureAction: 'ABORT' }, inventory(4));
  fleet.script('h01', { update: { reject: 'AGENT_UNREACHABLE' } });
  const final = await rollout.run();
  assert.equal(final.state, 'ROLLOUT_FAILED');
  assert.equal(hostState(rollout, 'h03'), 'HOST_SKIPPED');
});

test('pre-pull failure: the host fails before any update; the others in the batch go on', async () => {
  const { rollout, fleet } = harness({ maxFail: '50%' }, inventory(2));
  fleet.script('h02', { prePull: { reject: 'IMAGE_PULL_FAILED' } });
  const final = await rollout.run();
  const h02 = host(final, 'h02');
  assert.deepEqual(
    [h02.state, h02.errorCode, h02.message],
    ['HOST_FAILED', 'IMAGE_PULL_FAILED', `pre-pull of ${NEW} failed: IMAGE_PULL_FAILED from h02`],
  );
  assert.deepEqual(fleet.updated(), ['h01']);
  assert.equal(host(final, 'h01').state, 'HOST_SUCCEEDED');
});
