// How long does a slot sit at weight 0, and where does that time go? Runs a few
// rollouts on one local host, idle and under load, and prints the weight-0 window
// of every slot beside its parts. It prints and never gates on absolute times:
// it fails only when a rollout fails or a request fails under load.
import { cpus, loadavg, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StepEvent, StepName } from '@fleetroll/shared';
import { updateHost } from '../support/agent-rpc.js';
import {
  docker,
  startLoad,
  type LoadReport,
  type LoadRun,
  startLocalHost,
  runWithTeardown,
  type LocalHost,
} from '@fleetroll/local-fleet';

// Index 9: integration tests use 1..4, the demo 8, so the bench can run beside them.
// Docker health checked at the image's own 200 ms (local hosts default to 1 s): the window then
// holds the agent's work more than the wait for Docker's first check of a new container.
const HOST = { hostId: 'bench', index: 9, healthcheck: { intervalMs: 200 } };
const ROLLOUTS = 4;
const IMAGES = ['fleetroll-app:v2', 'fleetroll-app:v1'];
// Every 10th request is the 1-second CGI, so drains wait for real requests (not
// every one: see "aliasing" in docs/benchmarks.md).
const LOAD = { rps: 240, slowEvery: 10, slowPath: '/cgi-bin/slow?1', maxDurationMs: 300_000 };
const LOAD_WARMUP_MS = 1_500;
/** The target: a slot is out no longer than its drain plus this. */
const TARGET_OVER_DRAIN_MS = 1_500;

interface Sample {
  slot: string;
  window: number;
  drain: number;
  stop: number;
  start: number;
  healthy: number;
}

const parts = (s: Sample): number => s.drain + s.stop + s.start + s.healthy;

/** Reads each replaced slot's durations from the events of one UpdateHost call. */
function samplesOf(events: StepEvent[]): Sample[] {
  const slots = [...new Set(events.filter((e) => e.step === 'SLOT_DONE').map((e) => e.slot))];
  return slots.map((slot) => {
    const ms = (step: StepName): number => {
      const e = events.find((x) => x.slot === slot && x.step === step);
      if (!e) throw new Error(`slot ${slot} was replaced without a ${step} event`);
      return e.durationMs;
    };
    return {
      slot,
      window: ms('WEIGHT_RESTORED'),
      drain: ms('DRAINED'),
      stop: ms('OLD_STOPPED'),
      start: ms('NEW_STARTED'),
      healthy: ms('HEALTHY'),
    };
  });
}

async function rollouts(host: LocalHost, condition: string): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (let i = 0; i < ROLLOUTS; i++) {
    const image = IMAGES[i % IMAGES.length] ?? '';
    const rolloutId = `bench-${condition}-${i + 1}`;
    const { events, error } = await updateHost(host.agent.client, { rolloutId, image });
    const last = events.at(-1);
    if (error || last?.step !== 'HOST_DONE') {
      const why = error ? `gRPC ${error.code} ${error.details}` : `${last?.step}: ${last?.message}`;
      throw new Error(`rollout ${rolloutId} to ${image} failed (${why}); agent log: ${host.agent.logFile}`);
    }
    const got = samplesOf(events);
    if (got.length === 0) throw new Error(`rollout ${rolloutId} replaced no slot`);
    samples.push(...got);
    const windows = got.map((s) => `${s.slot} ${secs(s.window)}`).join('  ');
    console.log(`  ${condition} ${i + 1}/${ROLLOUTS} → ${image}: window ${windows}`);
  }
  return samples;
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

const secs = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** A Markdown table, so that the output can go into docs/benchmarks.md as it is. */
function table(title: string, samples: Sample[]): string {
  const rows: [string, (s: Sample) => number, (v: number) => string][] = [
    ['window (WEIGHT_ZERO → WEIGHT_RESTORED)', (s) => s.window, secs],
    ['drain', (s) => s.drain, secs],
    ['stop (old container)', (s) => s.stop, secs],
    ['start (create + start new)', (s) => s.start, secs],
    ['healthy (Docker healthy + HAProxy UP)', (s) => s.healthy, secs],
    ['rest (window − the four parts)', (s) => s.window - parts(s), secs],
    ['**window − drain** (target ≤ 1.5 s)', (s) => s.window - s.drain, secs],
    ['overhead ratio window ÷ (drain+stop+start+healthy)', (s) => s.window / parts(s), (v) => v.toFixed(2)],
  ];
  const overDrain = samples.map((s) => s.window - s.drain);
  const worst = Math.max(...overDrain);
  const verdict =
    worst <= TARGET_OVER_DRAIN_MS
      ? `within target: window − drain ≤ ${secs(TARGET_OVER_DRAIN_MS)} for all ${samples.length} slots`
      : `OVER target: window − drain exceeded ${secs(TARGET_OVER_DRAIN_MS)} in ` +
        `${overDrain.filter((v) => v > TARGET_OVER_DRAIN_MS).length} of ${samples.length} slots`;
  return [
    `### ${title} (${samples.length} slot samples)`,
    '',
    '| | median | max | min |',
    '|---|---:|---:|---:|',
    ...rows.map(([name, of, fmt]) => {
      const values = samples.map(of);
      return `| ${name} | ${fmt(median(values))} | ${fmt(Math.max(...values))} | ${fmt(Math.min(...values))} |`;
    }),
    '',
    `Verdict: ${verdict} (median ${secs(median(overDrain))}, max ${secs(worst)}).`,
    '',
  ].join('\n');
}

// The times depend on what else the machine does; the load average says how busy it was.
function busy(): string {
  const [one, five] = loadavg();
  return `load average ${one?.toFixed(2)} (1 min), ${five?.toFixed(2)} (5 min)`;
}

function loadLine(r: LoadReport): string {
  return (
    `load: ${r.total} requests, ${r.failed} failed, ${r.achievedRps} req/s, ` +
    `${r.slowOk}/${r.slowTotal} slow requests ok, latency p50 ${r.latencyMs.p50} ms p99 ${r.latencyMs.p99} ms`
  );
}

const starting = startLocalHost(HOST);
let load: LoadRun | undefined;

async function main(): Promise<number> {
  const { Version: dockerVersion } = await docker.version();
  console.log(
    `slot-window bench: ${cpus().length} CPUs, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, ` +
      `Node ${process.version}, Docker ${dockerVersion}; ${ROLLOUTS} rollouts per condition; ${busy()}`,
  );
  const host = await starting;

  const idle = await rollouts(host, 'idle');

  load = startLoad({ targets: [host.frontendUrl], ...LOAD });
  // Long requests must be in flight on every server before the first weight goes to 0.
  await sleep(LOAD_WARMUP_MS);
  const loaded = await rollouts(host, 'load');
  const report = await load.stop();

  console.log(`\n${table('Idle', idle)}`);
  console.log(table(`Under load (${LOAD.rps} req/s, every ${LOAD.slowEvery}th a 1-s CGI)`, loaded));
  console.log(loadLine(report));
  console.log(`machine at the end: ${busy()}`);
  if (report.failed > 0) {
    console.error(`FAILED: ${report.failed} requests failed: ${JSON.stringify(report.byReason)}`);
    return 1;
  }
  return 0;
}

async function teardown(): Promise<void> {
  await load?.stop();
  const host = await starting.catch(() => undefined);
  await host?.stop();
  console.log('torn down: agent, HAProxy and app containers stopped and removed');
}

process.exitCode = await runWithTeardown('bench host', main, teardown);
