// A SIMULATION of a large fleet: does the controller keep up with a thousand hosts?
// The controller is the real one, in its own process; the agents are the real
// agent code (HostAgent, its NATS service, its registry heartbeat), a thousand of
// them in one child process over a real nats-server; only HAProxy and Docker are
// simulated (sim/ports.ts), with fixed step latencies, so the time the rollout
// cannot go below is known exactly. Prints; exits non-zero only when the rollout
// does not succeed (in time).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import {
  runWithTeardown,
  spawnController,
  startNatsServer,
  waitUntilReady,
  type ControllerProcess,
  type ManagedProcess,
  type NatsServer,
} from '@fleetroll/local-fleet';
import { batchSizes, type ControllerApi } from '@fleetroll/controller';
import { POLL_MS as AGENT_POLL_MS } from '@fleetroll/agent';
import { createLogger, parseSerialSpec } from '@fleetroll/shared';
import { simHostId, startSimAgents, type SimAgentsOptions } from './sim/agents.js';
import { writeFleetFiles } from './sim/fleet-files.js';
import { complaints } from './sim/log-summary.js';
import { slotFloorMs, type SimLatencies } from './sim/ports.js';
import { cpuOf, cpuUsage, vmMiB } from './sim/proc.js';
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
import { runRollout, type RolloutRun } from './sim/rollout.js';
import { recordSteps, type StepRecorder } from './sim/steps.js';
import { hostGaps } from './sim/host-gaps.js';
import { criticalPathMs, measuredHostFloors, rolloutTiming, slotSamples } from './sim/timeline.js';

const LATENCIES: SimLatencies = { drainMs: 100, stopMs: 50, startMs: 50, healthyMs: 100 };
/** The image is on every host already: a pre-pull costs nothing. */
const PRE_PULL_MS = 0;
const SLOTS = 3;
const SERIAL = '10%';
const IMAGES = { 'sim-app:v1': `sha256:${'51'.repeat(32)}`, 'sim-app:v2': `sha256:${'52'.repeat(32)}` };
const TARGET_RATIO = 1.05;
const TARGET_DISPATCH_P99_MS = 50;
const READY_TIMEOUT_MS = 120_000;
const IDLE_SAMPLE_MS = 5_000;
/** How often the bench asks for the rollout's status: each answer carries every host. */
const POLL_MS = 500;

function positiveInt(name: string, raw: string): number {
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return v;
}

// Knobs for runs by hand (scaling, a store); `npm run bench` uses the defaults.
const { values: args } = parseArgs({
  options: {
    hosts: { type: 'string', default: '1000' },
    'heartbeat-ms': { type: 'string', default: '1000' },
    'poll-ms': { type: 'string', default: '5' },
    connections: { type: 'string', default: '4' },
    // Real agents each have a machine; two processes let a batch's hundred agents use both cores.
    'agent-processes': { type: 'string', default: '2' },
    // The controller's own default (auto: the NATS KV bucket when NATS is configured).
    store: { type: 'string', default: 'auto' },
  },
});
const STORES = ['auto', 'nats', 'file', 'memory'];
if (!STORES.includes(args.store)) throw new Error(`--store must be one of ${STORES.join(', ')}`);
const HOSTS = positiveInt('hosts', args.hosts);
const PROCESSES = positiveInt('agent-processes', args['agent-processes']);
const AGENTS: Omit<SimAgentsOptions, 'natsUrl' | 'process'> = {
  hosts: HOSTS,
  processes: PROCESSES,
  slots: SLOTS,
  connections: positiveInt('connections', args.connections),
  pollMs: positiveInt('poll-ms', args['poll-ms']),
  heartbeatMs: positiveInt('heartbeat-ms', args['heartbeat-ms']),
  latencies: LATENCIES,
  images: IMAGES,
  image: 'sim-app:v1',
};
/** One host's unavoidable time: its pre-pull, then its slots one after another, each waiting out every step. */
const HOST_FLOOR_MS = PRE_PULL_MS + SLOTS * slotFloorMs(LATENCIES);
const BATCHES = batchSizes(HOSTS, parseSerialSpec([SERIAL])).length;
/** Twenty times the lower bound is a failure whatever the reason; waiting longer only ties up the machine. */
const ROLLOUT_TIMEOUT_MS = Math.max(120_000, 20 * BATCHES * HOST_FLOOR_MS);

let dir: string | undefined;
let nats: NatsServer | undefined;
// Kept as promises, so that a signal during start-up still tears down what they start.
let agents: Promise<ManagedProcess>[] = [];
let controller: Promise<ControllerProcess> | undefined;
let steps: StepRecorder | undefined;
/** A failed run keeps its logs (the work directory) for whoever investigates. */
let keepLogs = false;

function preamble(): void {
  const l = LATENCIES;
  console.log(
    [
      `fleet-sim bench — a SIMULATION, not a deployment. ${machine()}; ${busy()}.`,
      'Real: the fleetroll-controller process, nats-server, and the agent code (HostAgent, its NATS',
      `service, its registry heartbeat) of ${HOSTS} agents in ${PROCESSES} child process(es), hosts dealt out in turn, ` +
        `each process on ${AGENTS.connections} NATS connections.`,
      'Simulated: HAProxy and Docker, with fixed step latencies: drain (scur > 0 until ' +
        `${l.drainMs} ms after weight 0) ${l.drainMs} ms, stop ${l.stopMs} ms, start ${l.startMs} ms, ` +
        `healthy ${l.healthyMs} ms after start; the image is present (pre-pull ${PRE_PULL_MS} ms); ` +
        'HAProxy always reports UP; no crash-recovery journal is written; the agents log warnings and errors only.',
      `Agents poll the simulated HAProxy and Docker every ${AGENTS.pollMs} ms (real agents: ${AGENT_POLL_MS} ms), so ` +
        'that polling granularity does not dominate the fixed latencies (the weight hold while containers ' +
        `are replaced, which nothing waits on, polls every ${AGENT_POLL_MS} ms as real agents do); heartbeat every ` +
        `${AGENTS.heartbeatMs} ms.`,
      `Two rollouts, one after the other: ${HOSTS} hosts × ${SLOTS} slots, serial ${SERIAL} (${BATCHES} ` +
        `batches), transport nats, controller store ${args.store}; each given up after ${secs(ROLLOUT_TIMEOUT_MS)}.`,
      '',
      'Lower bound = Σ over batches of the slowest host\u2019s unavoidable time; every host here costs',
      `  pre-pull + slots × (drain + stop + start + healthy) = ${PRE_PULL_MS} + ${SLOTS} × ` +
        `(${l.drainMs} + ${l.stopMs} + ${l.startMs} + ${l.healthyMs}) ms = ${HOST_FLOOR_MS} ms,`,
      `  so the bound is ${BATCHES} batches × that = ${secs(BATCHES * HOST_FLOOR_MS)}. Everything else (dispatch,`,
      '  polling, NATS, the controller\u2019s bookkeeping and store, moving from one batch to the next) is',
      '  overhead the ratio shows.',
      'A batch starts when its updates do: its hosts were described and pre-pulled before (while the batch',
      'before it updated; the first batch, before it started), so dispatch is the fan-out of the updates.',
      '',
    ].join('\n'),
  );
}

async function allAlive(api: ControllerApi): Promise<boolean> {
  // Each answer re-reads the inventory and lists every agent: asked twice a second, not at every poll.
  await sleep(500);
  const { agents: seen } = await api.agents();
  return seen.filter((a) => a.alive).length === HOSTS;
}

/** The tables; for a rollout given up on, over the batches it finished. */
function results(run: RolloutRun, recorder: StepRecorder): string {
  const { status } = run;
  const events = recorder.of(status.id);
  const timing = rolloutTiming(status, events, run.requestedAtMs, () => HOST_FLOOR_MS);
  const floors = measuredHostFloors(events);
  const measuredMs = criticalPathMs(status, (id) => floors.get(id) ?? 0);
  return [
    wallTable(timing, TARGET_RATIO, measuredMs),
    overheadTable(timing),
    batchTable(timing),
    dispatchTable(timing, TARGET_DISPATCH_P99_MS),
    slotTable(slotSamples(events), {
      windowMs: slotFloorMs(LATENCIES),
      drainMs: LATENCIES.drainMs,
      stopMs: LATENCIES.stopMs,
      startMs: LATENCIES.startMs,
      healthyMs: LATENCIES.healthyMs,
    }),
    gapTable(hostGaps(events)),
    `Step events heard: ${events.length} (${recorder.undecodable} undecodable).`,
  ].join('\n');
}

/** How far a rollout that did not succeed got, from the controller's status and the agents' events. */
function shortfall(run: RolloutRun, recorder: StepRecorder): string {
  const { status } = run;
  const events = recorder.of(status.id);
  const succeeded = status.hosts.filter((h) => h.state === 'HOST_SUCCEEDED').length;
  const batchesDone = status.batches.filter((b) => b.finishedAtMs > 0).length;
  const how = run.ended
    ? `ended ${status.state} (${status.message})`
    : `did NOT end within ${secs(ROLLOUT_TIMEOUT_MS)} (20 × the lower bound) and was aborted`;
  return (
    `FAILED: rollout ${status.id} ${how}. The controller had ${succeeded} of ${HOSTS} hosts succeeded and ` +
    `${batchesDone} of ${status.batches.length} batches finished; the agents had replaced ` +
    `${events.filter((e) => e.step === 'SLOT_DONE').length} of ${HOSTS * SLOTS} slots.` +
    (batchesDone > 0 ? ` The tables below cover the ${batchesDone} finished batches only.` : '')
  );
}

async function main(signalled: () => boolean): Promise<number> {
  try {
    return await simulate();
  } catch (err) {
    keepLogs = !signalled();
    throw err;
  }
}

async function simulate(): Promise<number> {
  preamble();
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-sim-'));
  nats = await startNatsServer({ name: 'fleet-sim' });
  const hostIds = Array.from({ length: HOSTS }, (_, i) => simHostId(i + 1));
  const files = await writeFleetFiles(dir, hostIds, nats.url, args.store);
  const controllerLog = join(dir, 'controller.log');
  controller = spawnController(files.configPath, files.address, controllerLog);
  const ctl = await controller;
  const t0 = Date.now();
  const workDir = dir;
  const natsUrl = nats.url;
  const agentsLogs = Array.from({ length: PROCESSES }, (_, p) => join(workDir, `agents-${p + 1}.log`));
  agents = agentsLogs.map((log, p) => startSimAgents({ ...AGENTS, process: p, natsUrl }, log));
  const sims = await Promise.all(agents);
  // The rollout must not begin with agents the controller cannot see yet: they would look dead.
  const alive = () => allAlive(ctl.api);
  await Promise.all(
    sims.map((sim, p) =>
      waitUntilReady(sim, `simulated agents ${p + 1}/${PROCESSES}`, alive, READY_TIMEOUT_MS),
    ),
  );
  console.log(
    `${HOSTS} agents serving, and alive to the controller, ${secs(Date.now() - t0)} after their start`,
  );

  const pids: Record<string, number> = { controller: ctl.pid, 'nats-server': nats.pid };
  sims.forEach((sim, p) => (pids[`agents ${p + 1}`] = sim.pid));
  // What the heartbeats alone cost, before any rollout: the fleet's steady state.
  const idleBefore = await cpuOf(pids);
  await sleep(IDLE_SAMPLE_MS);
  const idleCpu = cpuUsage(idleBefore, await cpuOf(pids), IDLE_SAMPLE_MS);
  const idleRss = await vmMiB(ctl.pid, 'VmRSS');
  console.log(
    `idle ${IDLE_SAMPLE_MS / 1000} s with heartbeats: CPU ${idleCpu}; controller RSS ` +
      `${idleRss.toFixed(0)} MiB; rolling out…\n`,
  );

  steps = await recordSteps(nats.url, createLogger('fleet-sim'));
  const recorder = steps;
  const measure = (label: string, image: string) =>
    measureRollout(label, image, { api: ctl.api, pid: ctl.pid, pids, recorder, controllerLog, agentsLogs });
  // The first rollout of a freshly started controller and agents runs their code cold (V8 has compiled
  // nothing yet); a controller in service has rolled out before. Both are measured, in that order.
  const cold = await measure('the first rollout after the start (cold)', 'sim-app:v2');
  const warm = cold && (await measure('the next rollout, back to v1 (warm)', 'sim-app:v1'));
  keepLogs = !warm;
  return warm ? 0 : 1;
}

interface Measuring {
  api: ControllerApi;
  pid: number;
  pids: Record<string, number>;
  recorder: StepRecorder;
  controllerLog: string;
  agentsLogs: string[];
}

/** One rollout of every host to `image`, and its tables; true when it succeeded. */
async function measureRollout(label: string, image: string, m: Measuring): Promise<boolean> {
  const rssBefore = await vmMiB(m.pid, 'VmRSS');
  const cpuBefore = await cpuOf(m.pids);
  const run = await runRollout(
    m.api,
    { image, serial: [SERIAL], transport: 'nats' },
    { pollMs: POLL_MS, timeoutMs: ROLLOUT_TIMEOUT_MS },
  );
  const rolloutMs = Date.now() - run.requestedAtMs;
  const cpuAfter = await cpuOf(m.pids);
  const peakRss = await vmMiB(m.pid, 'VmHWM');
  const endRss = await vmMiB(m.pid, 'VmRSS');
  const succeeded = run.ended && run.status.state === 'ROLLOUT_SUCCEEDED';

  console.log(
    [
      `### Fleet simulation, ${label}: ${HOSTS} hosts × ${SLOTS} slots → ${image}, serial ${SERIAL} ` +
        `(${BATCHES} batches), nats, store ${args.store}`,
      '',
      ...(succeeded ? [] : [shortfall(run, m.recorder), '']),
      ...(run.status.batches.some((b) => b.finishedAtMs > 0) ? [results(run, m.recorder)] : []),
      '',
      `Controller memory: peak RSS (VmHWM, since its start) ${peakRss.toFixed(0)} MiB; RSS ` +
        `${rssBefore.toFixed(0)} MiB before the rollout, ${endRss.toFixed(0)} MiB after it.`,
      `CPU during the rollout: ${cpuUsage(cpuBefore, cpuAfter, rolloutMs)}.`,
      `Status polls (every ${POLL_MS / 1000} s) the controller left unanswered for 15 s: ${run.unanswered}.`,
      `Warnings and errors logged by the controller so far: ${await complaints(m.controllerLog)}.`,
      `… by the agents: ${(await Promise.all(m.agentsLogs.map((log) => complaints(log)))).join('; ')}.`,
      `Machine at the end: ${busy()}.`,
      '',
    ].join('\n'),
  );
  return succeeded;
}

async function teardown(): Promise<void> {
  await steps?.close().catch(() => undefined);
  await (await controller?.catch(() => undefined))?.stop('SIGKILL').catch(() => undefined);
  await Promise.all(agents.map(async (a) => (await a.catch(() => undefined))?.stop()));
  await nats?.stop().catch(() => undefined);
  if (dir && keepLogs) console.error(`logs kept in ${dir} (controller.log, agents-*.log)`);
  else if (dir) await rm(dir, { recursive: true, force: true });
  console.log('torn down: controller, simulated agents and nats-server stopped');
}

process.exitCode = await runWithTeardown('fleet simulation', main, teardown);
