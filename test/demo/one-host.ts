// A rollout as a person sees it: one local host under load, v1 → v2 through the
// agent's gRPC API, every step printed as it happens beside a per-slot status line.
// Exits non-zero when the update fails or any request fails.
import { constants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPLACED_SLOT_STEPS } from '@fleetroll/agent';
import type { StepEvent, StepName } from '@fleetroll/shared';
import { describe } from '../support/agent-process.js';
import { updateHost } from '../support/agent-rpc.js';
import { startLoad, type LoadReport, type LoadRun } from '../support/load.js';
import { startLocalHost } from '../support/local-host.js';

// Index 8: integration tests use 1..4 and the bench 9, so the demo can run beside them.
const HOST = { hostId: 'demo', index: 8 };
const TARGET_IMAGE = 'fleetroll-app:v2';
const LOAD = { rps: 240, slowEvery: 10, slowPath: '/cgi-bin/slow?1', maxDurationMs: 120_000 };
const LOAD_WARMUP_MS = 1_500;
const REDRAW_MS = 250;

type ReplacedStep = (typeof REPLACED_SLOT_STEPS)[number];
/** What a slot is busy with once the step has been reported. */
const DOING: Record<ReplacedStep, string> = {
  SLOT_STARTED: 'preparing',
  WEIGHT_ZERO: 'draining',
  DRAINED: 'stopping old',
  OLD_STOPPED: 'starting new',
  NEW_STARTED: 'health check',
  HEALTHY: 'restoring weight',
  WEIGHT_RESTORED: 'cleaning up',
  SLOT_DONE: 'done',
};
const SLOT_ENDS = new Set<StepName>(['SLOT_DONE', 'SLOT_SKIPPED', 'SLOT_FAILED']);
// WEIGHT_RESTORED's duration is the whole weight-0 window, not a step of its own.
const TIMED = new Set<StepName>([
  'IMAGE_READY',
  'DRAINED',
  'OLD_STOPPED',
  'NEW_STARTED',
  'HEALTHY',
  'WEIGHT_RESTORED',
]);

const tty = process.stdout.isTTY === true;
const tag = (image: string): string => image.split(':').at(-1) ?? image;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const isReplacedStep = (s: StepName): s is ReplacedStep =>
  (REPLACED_SLOT_STEPS as readonly string[]).includes(s);

/**
 * Prints one line per step event and keeps a per-slot status line (with the live
 * load counters) under them: redrawn in place on a TTY; without one, printed as a
 * plain line whenever a slot ends, since there is no line to redraw.
 */
class Progress {
  private readonly slots = new Map<string, string>();
  private redraw: NodeJS.Timeout | undefined;
  private t0 = Date.now();

  constructor(
    versions: [string, string][],
    private readonly load: () => LoadReport,
  ) {
    for (const [slot, version] of versions) this.slots.set(slot, `· ${version}`);
  }

  begin(): void {
    this.t0 = Date.now();
    if (!tty) return console.log(`  status ${this.line()}`);
    process.stdout.write(this.bar());
    this.redraw = setInterval(() => process.stdout.write(`\r\x1b[2K${this.bar()}`), REDRAW_MS);
  }

  event(e: StepEvent): void {
    this.track(e);
    if (tty) return void process.stdout.write(`\r\x1b[2K${eventLine(e, this.t0)}\n${this.bar()}`);
    console.log(eventLine(e, this.t0));
    if (SLOT_ENDS.has(e.step)) console.log(`  status ${this.line()}`);
  }

  /** Safe to call twice: the run's end and a signal may both do so. */
  end(): void {
    if (tty && this.redraw) process.stdout.write('\n');
    clearInterval(this.redraw);
    this.redraw = undefined;
  }

  private track(e: StepEvent): void {
    if (e.step === 'SLOT_DONE' || e.step === 'SLOT_SKIPPED') this.slots.set(e.slot, `✔ ${tag(TARGET_IMAGE)}`);
    else if (e.step === 'SLOT_FAILED') this.slots.set(e.slot, '✘ failed');
    else if (e.step === 'ROLLING_BACK') this.slots.set(e.slot, '↺ rolling back');
    else if (isReplacedStep(e.step)) {
      const n = REPLACED_SLOT_STEPS.indexOf(e.step) + 1;
      this.slots.set(e.slot, `▶ ${DOING[e.step]} [${n}/${REPLACED_SLOT_STEPS.length}]`);
    }
  }

  private line(): string {
    const slots = [...this.slots].map(([slot, s]) => `${slot} ${s}`).join('  ');
    const r = this.load();
    return `${slots}   │ ${r.total} requests, ${r.failed} failed`;
  }

  // Cut to the terminal's width: a wrapped line could not be redrawn in place.
  private bar(): string {
    return this.line().slice(0, (process.stdout.columns || 80) - 1);
  }
}

/** One line per event: time since the update began, slot, step, duration, weight or message. */
function eventLine(e: StepEvent, t0: number): string {
  const took = TIMED.has(e.step) ? `${e.durationMs} ms` : '';
  let detail = e.message;
  if (e.step === 'WEIGHT_ZERO') detail = `weight ${e.weight} → 0`;
  if (e.step === 'WEIGHT_RESTORED') detail = `weight 0 → ${e.weight} (time at weight 0)`;
  if (e.errorCode) detail = `${e.errorCode}: ${detail}`;
  const at = `+${((e.atUnixMs - t0) / 1000).toFixed(2)}s`;
  return `${at.padStart(8)}  ${(e.slot || 'host').padEnd(5)} ${e.step.padEnd(16)}${took.padStart(8)}  ${detail}`.trimEnd();
}

function loadLines(r: LoadReport): string[] {
  const answered = Object.entries(r.bodies)
    .map(([body, n]) => `${body} ×${n}`)
    .join(', ');
  return [
    `load: ${r.total} requests in ${secs(r.durationMs)} at ${r.achievedRps} req/s, ${r.failed} failed`,
    `      slow (1-s CGI) ${r.slowOk}/${r.slowTotal} ok; latency p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms`,
    `      answered by: ${answered}`,
    ...(r.failed > 0 ? [`      failures: ${JSON.stringify(r.byReason)}`] : []),
  ];
}

function windowLines(events: StepEvent[]): string[] {
  const drainOf = (slot: string): number =>
    events.find((e) => e.slot === slot && e.step === 'DRAINED')?.durationMs ?? 0;
  return [
    'weight-0 windows (WEIGHT_ZERO → WEIGHT_RESTORED):',
    ...events
      .filter((e) => e.step === 'WEIGHT_RESTORED')
      .map((e) => {
        const drain = drainOf(e.slot);
        return `  ${e.slot.padEnd(5)} ${secs(e.durationMs)} = drain ${secs(drain)} + replace and verify ${secs(e.durationMs - drain)}`;
      }),
  ];
}

async function main(): Promise<number> {
  console.log(`fleetroll demo: one simulated host (3 app containers, HAProxy, fleetroll-agent)`);
  const begun = Date.now();
  const starting = startLocalHost(HOST);
  let load: LoadRun | undefined;
  let progress: Progress | undefined;
  let tornDown: Promise<void> | undefined;
  let interrupted = false;
  // Memoised: the finally below and a signal may both ask for it.
  const teardown = (): Promise<void> =>
    (tornDown ??= (async () => {
      progress?.end();
      await load?.stop();
      const host = await starting.catch(() => undefined);
      await host?.stop();
      console.log('torn down: agent, HAProxy and app containers stopped and removed');
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: tearing down the demo host`);
      void teardown().finally(() => process.exit(128 + constants.signals[signal]));
    });
  }

  try {
    const host = await starting;
    const before = await describe(host.agent.client);
    console.log(
      `host up in ${secs(Date.now() - begun)}: frontend ${host.frontendUrl}, agent gRPC ${host.agentAddress}, ` +
        `slots ${before.slots.map((s) => `${s.slot}=${tag(s.image)}`).join(' ')}`,
    );

    const run = startLoad({ targets: [host.frontendUrl], ...LOAD });
    load = run;
    console.log(
      `load: ${LOAD.rps} req/s through the frontend, every ${LOAD.slowEvery}th request a 1-s CGI; ` +
        `warming up ${secs(LOAD_WARMUP_MS)}`,
    );
    await sleep(LOAD_WARMUP_MS);

    progress = new Progress(
      before.slots.map((s) => [s.slot, tag(s.image)]),
      () => run.snapshot(),
    );
    console.log(`\nUpdateHost ${TARGET_IMAGE} (slots one at a time):`);
    progress.begin();
    // After a signal, events only tell of the teardown (HAProxy gone, say): not of the rollout.
    const result = await updateHost(host.agent.client, { rolloutId: 'demo-v2', image: TARGET_IMAGE }, (e) => {
      if (!interrupted) progress?.event(e);
    });
    progress.end();
    // The signal handler is tearing the host down; a summary of a cut-off run would only mislead.
    if (interrupted) return 1;

    const report = await run.stop();
    const last = result.events.at(-1);
    const updated = !result.error && last?.step === 'HOST_DONE';
    console.log('');
    for (const line of [...loadLines(report), ...windowLines(result.events)]) console.log(line);
    if (!updated) {
      const why = result.error ? `gRPC ${result.error.code} ${result.error.details}` : last?.message;
      console.error(`update FAILED (${last?.step ?? 'no events'}): ${why}; agent log ${host.agent.logFile}`);
    }
    const ok = updated && report.failed === 0;
    console.log(`\n${ok ? '✔ rolled out with 0 failed requests' : '✘ demo FAILED'}`);
    return ok ? 0 : 1;
  } catch (err) {
    if (interrupted) return 1;
    console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    await teardown();
  }
}

process.exitCode = await main();
