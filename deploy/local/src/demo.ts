#!/usr/bin/env node
// `npm run demo`: six simulated hosts (3 app containers, HAProxy and an agent each),
// nats-server and the controller, all real, on this machine. Load runs through every
// frontend while the real `fleetroll` CLI rolls v1 → v2 with serial 35%, showing
// progress as an operator sees it. Ends with the load report; tears everything down.
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { startLocalFleet, type LocalFleet } from './fleet.js';
import { startLoad, type LoadRun } from './load.js';
import { CLI_MAIN } from './paths.js';
import { runWithTeardown } from './run.js';

const HOSTS = 6;
// Host port blocks 40..45: clear of the tests (1..35) and the bench (9).
const INDEX_BASE = 40;
const IMAGE = 'fleetroll-app:v2';
const SERIAL = '35%';

let fleet: LocalFleet | undefined;
let load: LoadRun | undefined;

function cli(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: 'inherit' });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  console.log(`fleetroll demo: ${HOSTS} hosts × 3 slots, nats-server and a controller, starting…`);
  const t0 = Date.now();
  fleet = await startLocalFleet({ name: 'demo', hosts: HOSTS, indexBase: INDEX_BASE, transport: 'nats' });
  console.log(
    `fleet up in ${((Date.now() - t0) / 1000).toFixed(1)} s; frontends ${fleet.frontends.join(' ')}\n`,
  );

  console.log(`$ fleetroll plan --inventory inventory.yml --serial ${SERIAL}`);
  await cli(['plan', '--inventory', fleet.inventoryPath, '--serial', SERIAL]);

  load = startLoad({ targets: fleet.frontends, rps: 240, slowEvery: 7, maxDurationMs: 300_000 });
  console.log(`\nload: 240 req/s spread over the ${HOSTS} frontends, every 7th request a 1-s slow one\n`);
  await sleep(1_500);

  console.log(`$ fleetroll rollout start --image ${IMAGE} --serial ${SERIAL}`);
  const exit = await cli([
    'rollout',
    'start',
    '--image',
    IMAGE,
    '--serial',
    SERIAL,
    '--controller',
    fleet.controller.address,
  ]);
  // Long requests that began during the last slot finish inside the measured window.
  await sleep(1_500);
  const r = await load.stop();
  console.log(
    `\nload: ${r.total} requests at ${r.achievedRps.toFixed(0)} req/s, ${r.failed} failed; ` +
      `${r.slowOk}/${r.slowTotal} long requests ok; answered by ${Object.entries(r.bodies)
        .map(([v, n]) => `${v} ×${n}`)
        .join(', ')}`,
  );
  if (r.failed > 0) console.log(`failures: ${JSON.stringify(r.byReason)}`);
  const ok = exit === 0 && r.failed === 0;
  console.log(
    ok ? '\n✔ rolled out across the fleet with 0 failed requests' : '\n✖ the demo rollout did not go cleanly',
  );
  return ok ? 0 : 1;
}

async function teardown(): Promise<void> {
  await load?.stop();
  await fleet?.stop();
  console.log('torn down: controller, agents, HAProxy, nats-server and app containers stopped and removed');
}

process.exitCode = await runWithTeardown('demo fleet', main, teardown);
