import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalFleet } from '@fleetroll/local-fleet';
import { fleetWithSteps, stepsOf, untilStep } from '../support/agent-steps.js';
import { startWithCli } from '../support/cli.js';
import { movingTag } from '../support/moving-tag.js';
import { serverWeights, slotVersions, waitForRollout, type Status } from '../support/fleet-run.js';

/** A fleet with its agents' steps recorded, its host ids and its weights before anything changes. */
async function fleetOf(t: TestContext, name: string, hosts: number, indexBase: number) {
  const { fleet, steps } = await fleetWithSteps(t, { name, hosts, indexBase });
  return { fleet, steps, ids: fleet.hosts.map((h) => h.hostId), weights: await serverWeights(fleet) };
}

const hostOf = (status: Status, hostId: string) => status.hosts.find((h) => h.hostId === hostId);

function resumeUntil(fleet: LocalFleet, id: string, ok: (s: Status) => boolean, what: string) {
  return fleet.controller.api.resume(id).then(() => waitForRollout(fleet, id, ok, what, 60_000));
}

test('the tag is pushed again between batches: the next host fails IMAGE_MISMATCH at its agent, the one after at the controller, both untouched; one build on the fleet', async (t) => {
  const { tag, move } = await movingTag(t, 'moving', 'v2', 'v1');
  const { fleet, steps, ids, weights } = await fleetOf(t, 'mt', 3, 96);
  const [first, second, third] = ids as [string, string, string];

  // Held after batch 1: mt-2 was prepared (the image described and present) while mt-1 updated.
  const run = await startWithCli(t, fleet.controller.address, tag, '--pause-after', '1');
  assert.equal(run.code, 3, `held after batch 1:\n${run.out}`);
  assert.match(
    run.out,
    new RegExp(
      `^\\[.*\\] build sha256:[0-9a-f]{12} \\(as ${first} had it\\): every host must run this one$`,
      'm',
    ),
  );
  const id = /^rollout (\S+):/m.exec(run.out)?.[1];
  assert.ok(id, run.out);
  await move();

  // Its agent pulls nothing (the tag is there) and finds the other build before any slot.
  const paused = await resumeUntil(fleet, id, (s) => s.state === 'ROLLOUT_PAUSED', 'the pause on mt-2');
  assert.equal(hostOf(paused, second)?.errorCode, 'IMAGE_MISMATCH', paused.message);
  assert.match(
    hostOf(paused, second)?.message ?? '',
    new RegExp(
      `^${tag} is sha256:[0-9a-f]{12} here, not sha256:[0-9a-f]{12}, the build this update must install: `,
    ),
  );
  assert.deepEqual(stepsOf(steps, second), ['HOST_STARTED', 'HOST_FAILED'], 'its agent touched no slot');

  // mt-3 is prepared in its own batch: the controller sees the other build and asks for no update.
  const final = await resumeUntil(fleet, id, (s) => s.finishedAtMs > 0, 'the end');
  assert.equal(final.state, 'ROLLOUT_FAILED', final.message);
  assert.equal(hostOf(final, third)?.errorCode, 'IMAGE_MISMATCH');
  assert.match(
    hostOf(final, third)?.message ?? '',
    new RegExp(
      `^${tag} is sha256:[0-9a-f]{12} on ${third}, not sha256:[0-9a-f]{12} as on ${first}, where the rollout took it from`,
    ),
  );
  assert.deepEqual(stepsOf(steps, third), [], 'its agent was never asked to update');

  assert.deepEqual(await slotVersions(fleet, [first]), ['v2', 'v2', 'v2']);
  assert.deepEqual(await slotVersions(fleet, [second, third]), Array(6).fill('v1'));
  assert.deepEqual(await serverWeights(fleet), weights);
});

test('the tag is pushed again mid-update: the next slot would get the other build, so it keeps its old container and the host fails IMAGE_MISMATCH', async (t) => {
  const { tag, move } = await movingTag(t, 'moving', 'v2', 'v1');
  const { fleet, steps, ids, weights } = await fleetOf(t, 'mu', 1, 89);
  const [only] = ids as [string];

  const run = startWithCli(t, fleet.controller.address, tag);
  await untilStep(steps, only, 'WEIGHT_RESTORED');
  await move();
  const { code, out } = await run;
  assert.equal(code, 1, `failed:\n${out}`);
  assert.match(
    out,
    new RegExp(
      `^\\[.*\\]   ${only} app2 FAILED IMAGE_MISMATCH: ${tag} became sha256:[0-9a-f]{12} during the update, which pulled sha256:[0-9a-f]{12}: .*rolled back`,
      'm',
    ),
  );
  assert.deepEqual(await slotVersions(fleet, [only]), ['v2', 'v1', 'v1']);
  assert.deepEqual(await serverWeights(fleet), weights, 'the slot serves again at its weight');
});
