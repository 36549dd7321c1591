// How close does a real rollout come to the time its slots cannot avoid? Six local
// hosts (real app containers, HAProxy, agents), nats-server and the controller,
// serial 35% over NATS, under load through every frontend. The lower bound is
// measured, not assumed: per batch, the slowest host's weight-0 windows plus its
// pre-pull, from the agents' own step events. Prints; exits non-zero when the
// rollout fails or any request fails.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  docker,
  runWithTeardown,
  startLoad,
  startLocalFleet,
  type LocalFleet,
  type LoadRun,
} from '@fleetroll/local-fleet';
import { createLogger } from '@fleetroll/shared';
import { complaints } from './sim/log-summary.js';
import { vmMiB } from './sim/proc.js';
import {
  batchTable,
  busy,
  dispatchTable,
  machine,
  overheadTable,
  secs,
  gapTable,
  slotTable,
  wallTable,
} from './sim/report.js';
import { runRollout } from './sim/rollout.js';
import { recordSteps, type StepRecorder } from './sim/steps.js';
import { hostGaps } from './sim/host-gaps.js';
import { measuredHostFloors, rolloutTiming, slotSamples } from './sim/timeline.js';

const HOSTS = 6;
// Port blocks 50..55: the tests take 1..35, the slot-window bench 9, the demo 40..45.
const INDEX_BASE = 50;
const SERIAL = '35%';
const IMAGE = 'fleetroll-app:v2';
// Every 7th request is the 1-s CGI: odd, so the slow ones do not all land on one server (see slot-window).
const LOAD = { rps: 240, slowEvery: 7, maxDurationMs: 300_000 };
const LOAD_WARMUP_MS = 1_500;
/** Long requests that began during the last slot must end inside the measured load. */
const LOAD_COOLDOWN_MS = 1_500;

// Kept as a promise, so that a signal during start-up still tears down what it started.
let starting: Promise<LocalFleet> | undefined;
let load: LoadRun | undefined;
let steps: StepRecorder | undefined;

async function main(): Promise<number> {
  const { Version: dockerVersion } = await docker.version();
  console.log(
    `fleet-real bench: ${machine()}, Docker ${dockerVersion}; ${busy()}.\n` +
      `${HOSTS} local hosts × 3 slots (real containers, HAProxy, agents), nats-server and the controller; ` +
      `serial ${SERIAL} over nats, ${LOAD.rps} req/s through all ${HOSTS} frontends (every ` +
      `${LOAD.slowEvery}th a 1-s CGI).\n` +
      'Lower bound per batch = the slowest host\u2019s Σ of its slot windows (WEIGHT_ZERO → WEIGHT_RESTORED) ' +
      '+ its pre-pull (IMAGE_READY), as its agent measured them; the rollout\u2019s = Σ over batches.\n',
  );
  const t0 = Date.now();
  starting = startLocalFleet({ name: 'fleetbench', hosts: HOSTS, indexBase: INDEX_BASE, transport: 'nats' });
  const fleet = await starting;
  console.log(`fleet up in ${secs(Date.now() - t0)}`);
  steps = await recordSteps(fleet.nats.url, createLogger('fleet-real'));

  load = startLoad({ targets: fleet.frontends, ...LOAD });
  await sleep(LOAD_WARMUP_MS);
  const run = await runRollout(
    fleet.controller.api,
    { image: IMAGE, serial: [SERIAL], transport: 'nats' },
    { pollMs: 100, timeoutMs: 240_000 },
  );
  await sleep(LOAD_COOLDOWN_MS);
  const report = await load.stop();
  const peakRss = await vmMiB(fleet.controller.pid, 'VmHWM');

  const { status, requestedAtMs } = run;
  if (!run.ended || status.state !== 'ROLLOUT_SUCCEEDED') {
    const how = run.ended ? `ended ${status.state}: ${status.message}` : 'did not end in time (aborted)';
    console.error(`FAILED: rollout ${status.id} ${how}`);
    for (const h of status.hosts.filter((x) => x.state === 'HOST_FAILED')) {
      console.error(`  ${h.hostId}: ${h.errorCode} ${h.message}`);
    }
    return 1;
  }
  const events = steps.of(status.id);
  const floors = measuredHostFloors(events);
  const timing = rolloutTiming(status, events, requestedAtMs, (id) => floors.get(id) ?? 0);
  console.log(
    [
      `### Real fleet: ${HOSTS} hosts × 3 slots, serial ${SERIAL} (${status.batches.length} batches), nats, under load`,
      '',
      wallTable(timing),
      overheadTable(timing),
      batchTable(timing),
      dispatchTable(timing),
      slotTable(slotSamples(events)),
      gapTable(hostGaps(events)),
      `Load: ${report.total} requests, **${report.failed} failed**, ${report.achievedRps} req/s, ` +
        `${report.slowOk}/${report.slowTotal} slow requests ok, latency p50 ${report.latencyMs.p50} ms ` +
        `p99 ${report.latencyMs.p99} ms.`,
      `Controller peak RSS (VmHWM): ${peakRss.toFixed(0)} MiB; warnings and errors it logged: ` +
        `${await complaints(fleet.controller.logFile)}. Machine at the end: ${busy()}.`,
    ].join('\n'),
  );
  if (report.failed > 0) {
    console.error(`FAILED: ${report.failed} requests failed: ${JSON.stringify(report.byReason)}`);
    return 1;
  }
  return 0;
}

async function teardown(): Promise<void> {
  await load?.stop();
  await steps?.close().catch(() => undefined);
  const fleet = await starting?.catch(() => undefined);
  await fleet?.stop();
  console.log('torn down: controller, agents, HAProxy, nats-server and app containers stopped and removed');
}

process.exitCode = await runWithTeardown('bench fleet', main, teardown);
