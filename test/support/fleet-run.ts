import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyClient } from '@fleetroll/agent';
import type { StepEvent, msg } from '@fleetroll/shared';
import {
  startLoad,
  type LoadOptions,
  type LoadReport,
  type LoadRun,
  type LocalFleet,
} from '@fleetroll/local-fleet';
import { httpGet } from './assertions.js';

export type Status = msg.RolloutStatus__Output;

export interface FleetRun {
  status: Status;
  steps: StepEvent[];
  report: LoadReport;
}

/**
 * Runs a rollout under load through every frontend and follows it until it ends or pauses.
 * onStep sees every agent step as it arrives, to break something at a chosen moment; what it
 * starts is awaited before the load stops, and a failure there fails the run.
 */
export async function rollUnderLoad(
  fleet: LocalFleet,
  request: msg.StartRolloutRequest,
  onStep: (step: StepEvent) => Promise<void> | void = () => undefined,
): Promise<FleetRun> {
  const load = testLoad(fleet.frontends, 240_000);
  const steps: StepEvent[] = [];
  const actions: Promise<void>[] = [];
  let broken: unknown;
  let status: Status | undefined;
  let report: LoadReport;
  try {
    await sleep(1_000);
    const started = await fleet.controller.api.start(request);
    await fleet.controller.api.watch(started.id, (update) => {
      for (const step of update.steps) {
        steps.push(step);
        const action = Promise.resolve()
          .then(() => onStep(step))
          .catch((err: unknown) => void (broken ??= err));
        actions.push(action);
      }
      status = update.status ?? status;
      // What onStep broke on purpose failed to happen: watching on would only wait for the host timeout.
      return broken === undefined && status?.state !== 'ROLLOUT_PAUSED';
    });
    await Promise.all(actions);
    if (broken !== undefined) throw broken;
    // Long requests started during the last slot must finish inside the load window too.
    await sleep(1_500);
  } finally {
    report = await load.stop();
  }
  assert.ok(status, 'no status was received');
  return { status, steps, report };
}

/** What each slot's app answers directly (not through HAProxy): its version. */
export async function slotVersions(fleet: LocalFleet, hostIds: string[]): Promise<string[]> {
  const hosts = fleet.hosts.filter((h) => hostIds.includes(h.hostId));
  return Promise.all(hosts.flatMap((h) => h.slotPorts.map((p) => httpGet(`http://127.0.0.1:${p}/`))));
}

/** Every server's weight, as its host's HAProxy says, as `host/server=weight`. */
export async function serverWeights(fleet: LocalFleet): Promise<string[]> {
  const weights = fleet.hosts.map(async (h) => {
    const lb = new HaproxyClient({ socketPath: h.socketPath, timeoutMs: 2_000 });
    const servers = h.slotPorts.map((_, i) => `app_${i + 1}`);
    return Promise.all(servers.map(async (s) => `${h.hostId}/${s}=${await lb.getWeight('app', s)}`));
  });
  return (await Promise.all(weights)).flat();
}

/** Every slot of every host answers as v2, and every weight is back to what it was `before`. */
export async function assertAllOnV2(fleet: LocalFleet, before: string[]): Promise<void> {
  const ids = fleet.hosts.map((h) => h.hostId);
  const versions = await slotVersions(fleet, ids);
  assert.deepEqual(versions, Array(versions.length).fill('v2'));
  assert.equal(
    versions.length,
    fleet.hosts.reduce((n, h) => n + h.slotPorts.length, 0),
  );
  assert.deepEqual(await serverWeights(fleet), before, 'every weight is back to what it was');
}

export interface LogEntry {
  time: number;
  msg: string;
  nats?: string;
  hostId?: string;
  reason?: string;
  err?: { message?: string };
  /** An agent's step lines: which step of which rollout, when, and how long it took. */
  step?: string;
  rolloutId?: string;
  at?: number;
  durationMs?: number;
}

/** A daemon's pino log from a moment on; lines that are not JSON (a crash's stack) are left out. */
export async function readLog(logFile: string, sinceMs: number): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for (const line of (await readFile(logFile, 'utf8')).split('\n')) {
    try {
      const entry = JSON.parse(line) as Partial<LogEntry>;
      if (typeof entry.time === 'number' && entry.time >= sinceMs && typeof entry.msg === 'string')
        entries.push(entry as LogEntry);
    } catch {
      // not a log line
    }
  }
  return entries;
}

/** The steps an agent logged for one rollout, in order: what it did, whoever was listening. */
export async function loggedSteps(logFile: string, rolloutId: string): Promise<LogEntry[]> {
  return (await readLog(logFile, 0)).filter((e) => e.msg === 'step' && e.rolloutId === rolloutId);
}

/** Polls the controller until the rollout's status satisfies `ok`; fails naming `what` after `timeoutMs`. */
export async function waitForRollout(
  fleet: LocalFleet,
  id: string,
  ok: (s: Status) => boolean,
  what: string,
  timeoutMs = 120_000,
): Promise<Status> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await fleet.controller.api.get(id);
    if (ok(s)) return s;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${s.state} ${s.message} ${JSON.stringify(s.groups)}`);
    }
    await sleep(50);
  }
}

/** A controller's log messages from `since` on that say how it lost, took or took back the lead and its rollouts. */
export async function leadership(logFile: string, since: number): Promise<string[]> {
  return (await readLog(logFile, since))
    .filter((e) => /stand|lead|resum|stor|lock|sav/i.test(e.msg))
    .map((e) => `${(e.time - since) / 1000}s ${e.msg}${e.err?.message ? ` (${e.err.message})` : ''}`);
}

/**
 * How long after `sinceMs` each process that lost NATS had it back (the first reconnect
 * connectNats logged, per log file); processes that never lost it are left out.
 */
export async function reconnectDelays(logFiles: string[], sinceMs: number): Promise<number[]> {
  const delays: number[] = [];
  for (const file of logFiles) {
    const reconnects = (await readLog(file, sinceMs)).filter((e) => e.nats === 'reconnect');
    if (reconnects.length > 0) delays.push(Math.min(...reconnects.map((e) => e.time)) - sinceMs);
  }
  return delays;
}

/** What the controller saw of its agents from a moment on: deaths and lives in the registry, and returns. */
export async function agentTurmoil(
  controllerLog: string,
  sinceMs: number,
): Promise<{ dead: LogEntry[]; alive: LogEntry[]; back: LogEntry[] }> {
  const entries = await readLog(controllerLog, sinceMs);
  return {
    dead: entries.filter((e) => e.msg === 'agent dead'),
    alive: entries.filter((e) => e.msg === 'agent alive'),
    back: entries.filter((e) => e.msg.startsWith('agent back after')),
  };
}

/** `host: message` of each entry, for a test's report line. */
export function describeEntries(entries: LogEntry[], field: 'msg' | 'reason' = 'msg'): string {
  return entries.map((e) => `${e.hostId ?? '?'}: ${e[field] ?? ''}`).join('; ');
}

/**
 * The load of the tests under load: 240 req/s spread over the frontends, every 5th request a 0.5-s
 * request, so that a slot taken out while one is in flight has to drain it. Half the benches' 1 s: as
 * good a proof of draining, and the 9 slot windows of a 3-batch rollout take 4 s less.
 */
export function testLoad(
  targets: string[],
  maxDurationMs: number,
  opts: Pick<LoadOptions, 'keepAlive'> = {},
): LoadRun {
  return startLoad({
    targets,
    rps: 240,
    slowEvery: 5,
    slowPath: '/cgi-bin/slow?0.5',
    maxDurationMs,
    ...opts,
  });
}
