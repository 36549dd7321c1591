import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parse, stringify } from 'yaml';
import type { FleetrollError, msg } from '@fleetroll/shared';
import type { ControllerApi } from '@fleetroll/controller';
import { spawnController, type LoadReport, type LocalFleet } from '@fleetroll/local-fleet';
import { fleetWithSteps, type SeenStep, type StepRecorder } from '../support/agent-steps.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { runCli, type CliRun } from '../support/cli.js';
import { testLoad, leadership, slotVersions } from '../support/fleet-run.js';

type Status = msg.RolloutStatus__Output;

const IMAGE = 'fleetroll-app:v2';
const HOSTS = 4;
const SLOTS = 3;
/** Generous: two cores run other fleets' tests beside this one. */
const STEP_TIMEOUT_MS = 180_000;

const isStep = (hostId: string, step: string) => (s: SeenStep) =>
  s.event.hostId === hostId && s.event.step === step;

/** The nth (1-based) time the agent of hostId took a slot to weight 0: that host is mid-slot. */
const nthWeightZero =
  (hostId: string, n: number) =>
  (s: SeenStep, all: readonly SeenStep[]): boolean =>
    s === all.filter(isStep(hostId, 'WEIGHT_ZERO'))[n - 1];

/**
 * Waits until the agent of hostId is on its second slot (at weight 0), on the rollout's way there:
 * a rollout that stopped short (paused by a host that failed on a loaded machine) fails at once,
 * with the controller's reason, instead of at the timeout.
 */
async function untilMidSlot(
  api: ControllerApi,
  id: string,
  steps: StepRecorder,
  hostId: string,
): Promise<void> {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  const target = nthWeightZero(hostId, 2);
  while (!steps.seen.some((s) => target(s, steps.seen))) {
    const status = await api.get(id);
    if (status.state !== 'ROLLOUT_RUNNING' || Date.now() > deadline) {
      const hosts = status.hosts.map((h) => `${h.hostId} ${h.state} ${h.errorCode} ${h.message}`).join('; ');
      assert.fail(
        `${hostId} never reached its second slot: rollout ${status.state} (${status.message}); ${hosts}`,
      );
    }
    await sleep(100);
  }
}

interface Followed {
  status: Status;
  /** When the first status saved after `sinceMs` arrived: the controller acting again. */
  firstSaveAtMs: number;
}

/** Follows the rollout on a controller to its end. */
async function followToEnd(api: ControllerApi, id: string, sinceMs: number): Promise<Followed> {
  let status: Status | undefined;
  let firstSaveAtMs = 0;
  await api.watch(id, (update) => {
    status = update.status ?? status;
    if (firstSaveAtMs === 0 && status && status.updatedAtMs > sinceMs) firstSaveAtMs = Date.now();
    return true;
  });
  assert.ok(status, 'no status was received');
  return { status, firstSaveAtMs };
}

/** Load through every frontend for the whole test; started first, stopped last. */
async function underLoad<T>(
  fleet: LocalFleet,
  body: () => Promise<T>,
): Promise<{ result: T; report: LoadReport }> {
  const load = testLoad(fleet.frontends, 400_000);
  let result: T | undefined;
  let report: LoadReport;
  try {
    await sleep(1_000);
    result = await body();
    // Long requests started during the last slot must finish inside the load window too.
    await sleep(1_500);
  } finally {
    report = await load.stop();
  }
  return { result, report };
}

/**
 * What both tests promise: the rollout ends succeeded with every container on the new image,
 * every slot was taken out of HAProxy exactly once (nothing done was done again), and the hosts
 * that had finished before the controller died got no step at all afterwards.
 */
async function assertResumedCleanly(
  fleet: LocalFleet,
  steps: StepRecorder,
  status: Status,
  killedAtMs: number,
): Promise<void> {
  assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
  const ids = fleet.hosts.map((h) => h.hostId);
  assert.deepEqual(await slotVersions(fleet, ids), Array(HOSTS * SLOTS).fill('v2'));
  const outs = steps.seen.filter((s) => s.event.step === 'WEIGHT_ZERO');
  for (const id of ids) {
    const slots = outs.filter((s) => s.event.hostId === id).map((s) => s.event.slot);
    assert.equal(slots.length, SLOTS, `${id}: slots taken out ${slots.join(', ')}`);
    assert.equal(new Set(slots).size, SLOTS, `${id}: a slot was taken out twice`);
  }
  const doneBefore = steps.seen.filter((s) => s.event.step === 'HOST_DONE' && s.seenAtMs < killedAtMs);
  assert.ok(doneBefore.length > 0, 'a host had finished before the controller died');
  for (const { event } of doneBefore) {
    const later = steps.seen.filter((s) => s.event.hostId === event.hostId && s.seenAtMs > killedAtMs);
    assert.deepEqual(later, [], `${event.hostId} finished before the crash and must not be touched again`);
  }
}

/** The host in flight at the crash: its first update ran to the end before it was asked again. */
function assertWaitedOut(steps: StepRecorder, hostId: string): { endedAtMs: number; askedAgainAtMs: number } {
  const done = steps.seen.filter(isStep(hostId, 'HOST_DONE'));
  const started = steps.seen.filter(isStep(hostId, 'HOST_STARTED'));
  assert.equal(started.length, 2, `${hostId}: one update before the crash, one after`);
  assert.ok(done[0] && started[1] && done[0].seenAtMs <= started[1].seenAtMs, 'asked again only once idle');
  const skipped = steps.seen.filter(
    (s) => isStep(hostId, 'SLOT_SKIPPED')(s) && s.seenAtMs > done[0]!.seenAtMs,
  );
  assert.equal(skipped.length, SLOTS, `${hostId}: the second update found every slot done`);
  return { endedAtMs: done[0].seenAtMs, askedAgainAtMs: started[1].seenAtMs };
}

const ms = (n: number) => `${(n / 1000).toFixed(1)} s`;

/**
 * The controller that took over (its first save after the kill, at takenOverAtMs; 0 when none came)
 * did so within limitMs; when not, the failure says what it logged about its lock, store and
 * rollouts since the kill. Returns how long the takeover took.
 */
async function assertTookOver(
  who: string,
  logFile: string,
  killedAtMs: number,
  takenOverAtMs: number,
  limitMs: number,
): Promise<number> {
  const takeoverMs = takenOverAtMs - killedAtMs;
  if (!(takeoverMs > 0 && takeoverMs < limitMs)) {
    const story = (await leadership(logFile, killedAtMs)).join(' | ');
    assert.fail(`${who} took over after ${ms(takeoverMs)}; it said: ${story}`);
  }
  return takeoverMs;
}

/** `fleetroll rollout status ID --watch --plain`, as an operator's terminal runs it. */
function watchWithCli(t: TestContext, address: string, id: string): Promise<CliRun> {
  return runCli(t, 'rollout', 'status', id, '--watch', '--plain', '--controller', address);
}

/** The operator's `rollout status --watch` outlived the controller it was watching; returns after how long it followed on. */
function assertCliFollowedOn(cli: CliRun, id: string): string {
  assert.equal(cli.code, 0, cli.out);
  assert.match(
    cli.out,
    /lost the controller \(cannot reach the controller at .*\); following on once it answers/,
  );
  const back = /the controller answers again after (\d+\.\d)s/.exec(cli.out);
  assert.ok(back, cli.out);
  assert.match(cli.out, new RegExp(`rollout ${id} succeeded: ${HOSTS}/${HOSTS} hosts`));
  return back[1]!;
}

test(
  'controller SIGKILLed mid-slot in batch 2 and started again: the rollout resumes and succeeds, nothing done is redone, 0 failed requests',
  { timeout: 600_000 },
  async (t) => {
    const { fleet, steps, extra } = await fleetWithSteps(t, { name: 'ec', hosts: HOSTS, indexBase: 60 });
    const { result, report } = await underLoad(fleet, async () => {
      const { id } = await fleet.controller.api.start({ image: IMAGE, serial: ['1'] });
      const cli = watchWithCli(t, fleet.controller.address, id);
      // Batch 2 is ec-2 alone: killed while its second slot is out of HAProxy.
      await untilMidSlot(fleet.controller.api, id, steps, 'ec-2');
      const killedAtMs = Date.now();
      await fleet.controller.stop('SIGKILL');
      const restarted = await spawnController(
        fleet.controllerConfigPath,
        fleet.controller.address,
        join(fleet.dir, 'controller-restarted.log'),
      );
      extra.push(restarted);
      const upAtMs = Date.now();
      const followed = await followToEnd(restarted.api, id, killedAtMs);
      return { id, killedAtMs, upAtMs, logFile: restarted.logFile, cli: await cli, ...followed };
    });
    const { id, killedAtMs, upAtMs, status, firstSaveAtMs, logFile, cli } = result;

    const back = assertCliFollowedOn(cli, id);

    await assertResumedCleanly(fleet, steps, status, killedAtMs);
    const { endedAtMs, askedAgainAtMs } = assertWaitedOut(steps, 'ec-2');
    const next = steps.seen.find(isStep('ec-3', 'WEIGHT_ZERO'));
    assert.ok(next && next.seenAtMs > askedAgainAtMs, 'batch 3 began after the resumed batch 2 ended');
    const takeoverMs = await assertTookOver(
      'the restarted controller',
      logFile,
      killedAtMs,
      firstSaveAtMs,
      20_000,
    );
    t.diagnostic(
      `kill → API up ${ms(upAtMs - killedAtMs)}; → rollout taken over (first save) ${ms(takeoverMs)}; ` +
        `agent finished its update ${ms(endedAtMs - killedAtMs)} after the kill; ` +
        `asked again ${ms(askedAgainAtMs - Math.max(endedAtMs, firstSaveAtMs))} after both; ` +
        `batch 3 moving ${ms(next.seenAtMs - killedAtMs)} after the kill; ` +
        `the CLI's watch lost the controller and followed on after ${back} s`,
    );
    assertNoFailedRequests(report, fleet.hosts);
  },
);

/** The fleet's controller config with another API address and dashboard port: a second controller. */
async function secondControllerConfig(
  fleet: LocalFleet,
  listen: string,
  httpListen: string,
): Promise<string> {
  const config = parse(await readFile(fleet.controllerConfigPath, 'utf8')) as Record<string, unknown>;
  config['listen'] = listen;
  if (typeof config['http'] === 'object' && config['http'] !== null)
    config['http'] = { ...config['http'], listen: httpListen };
  const path = join(fleet.dir, 'controller-b.yml');
  await writeFile(path, stringify(config));
  return path;
}

/** Polls until `check` holds, at most timeoutMs. */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

test(
  'two controllers: the second stands by (reads, refuses changes naming the leader); the leader SIGKILLed mid-rollout, it takes over within seconds and finishes, 0 failed requests',
  { timeout: 600_000 },
  async (t) => {
    const indexBase = 64;
    const { fleet, steps, extra } = await fleetWithSteps(t, { name: 'ed', hosts: HOSTS, indexBase });
    const leader = fleet.controller.address;
    const standbyAddress = `127.0.0.1:${23000 + indexBase + 1}`;
    const config = await secondControllerConfig(fleet, standbyAddress, `127.0.0.1:${24000 + indexBase + 1}`);
    const standby = await spawnController(config, standbyAddress, join(fleet.dir, 'controller-b.log'));
    extra.push(standby);

    const refusal = async (): Promise<boolean> => {
      const err = await standby.api.start({ image: IMAGE, serial: ['1'] }).then(
        () => assert.fail('the standby started a rollout'),
        (e: FleetrollError) => e,
      );
      assert.equal(err.code, 'NOT_LEADER', err.message);
      return err.message.includes(`controller ${leader}`);
    };
    await eventually(refusal, 'refused by the standby naming the leader', 10_000);

    const { result, report } = await underLoad(fleet, async () => {
      const { id } = await fleet.controller.api.start({ image: IMAGE, serial: ['1'] });
      // An operator's watch given both controllers: it must move to the standby when the leader dies.
      const cli = watchWithCli(t, `${leader},${standbyAddress}`, id);
      // The standby reads the store: it knows the rollout and can be watched from the start.
      await eventually(async () => (await standby.api.get(id)).id === id, 'seen by the standby', 10_000);
      assert.ok((await standby.api.list()).rollouts.some((r) => r.id === id));
      await assert.rejects(standby.api.pause(id), { code: 'NOT_LEADER' });
      const followed = followToEnd(standby.api, id, Number.MAX_SAFE_INTEGER);
      // Awaited below; a failure before then must not surface as an unhandled rejection.
      followed.catch(() => undefined);
      await untilMidSlot(fleet.controller.api, id, steps, 'ed-2');
      const killedAtMs = Date.now();
      await fleet.controller.stop('SIGKILL');
      // Only the new leader saves anything after the kill: its first save is the takeover.
      let takenOverAtMs = 0;
      const watchTakeover = standby.api.watch(id, (update) => {
        if (takenOverAtMs === 0 && (update.status?.updatedAtMs ?? 0) > killedAtMs) takenOverAtMs = Date.now();
        return takenOverAtMs === 0;
      });
      await watchTakeover;
      return { id, killedAtMs, takenOverAtMs, cli: await cli, ...(await followed) };
    });
    const { id, killedAtMs, takenOverAtMs, status, cli } = result;
    const back = assertCliFollowedOn(cli, id);

    await assertResumedCleanly(fleet, steps, status, killedAtMs);
    const { endedAtMs, askedAgainAtMs } = assertWaitedOut(steps, 'ed-2');
    const takeoverMs = await assertTookOver(
      'the standby',
      standby.logFile,
      killedAtMs,
      takenOverAtMs,
      15_000,
    );
    t.diagnostic(
      `kill → standby took over (first save) ${ms(takeoverMs)} (lease 5 s); agent finished its update ` +
        `${ms(endedAtMs - killedAtMs)} after the kill; asked again ${ms(askedAgainAtMs - Math.max(endedAtMs, takenOverAtMs))} after both; ` +
        `the CLI's watch (--controller leader,standby) lost the leader and followed on the standby after ${back} s`,
    );
    assertNoFailedRequests(report, fleet.hosts);
  },
);
