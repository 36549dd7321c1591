// What does one look at a slot's servers cost, on an HAProxy that fronts many apps? The agent
// looks every 50 ms while a slot drains, while its containers are replaced and until the new one
// is UP. It used to read every server of every proxy (`show stat -1 4 -1`) and keep the slot's
// backend; it now asks for that backend alone, by HAProxy's id of it. This runs both against one
// real HAProxy, with no other backend and with many, and prints what a look costs each way and
// the ratios, measured in the same run. It fails only when a look answers for the wrong servers.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HaproxyClient, type ServerStat } from '@fleetroll/agent';
import { freeLoopbackPort, runWithTeardown, startHaproxy, type HaproxyProcess } from '@fleetroll/local-fleet';

const LOOKS = 400;
const WARMUP = 20;
const BACKENDS = [0, 100, 300];
const APP_SERVERS = ['app_1', 'app_2', 'app_3'];

interface Cost {
  wallMs: number;
  agentCpuMs: number;
  haproxyCpuMs: number;
}

/** CPU time the process has had, in ms: the first field of schedstat is in ns. */
function cpuMsOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
}

async function measure(pid: number, look: () => Promise<ServerStat[]>): Promise<Cost> {
  const check = (stats: ServerStat[]): void => {
    const seen = stats.map((s) => `${s.backend}/${s.server}`).join(' ');
    if (seen !== APP_SERVERS.map((s) => `app/${s}`).join(' ')) throw new Error(`a look answered ${seen}`);
  };
  for (let i = 0; i < WARMUP; i++) check(await look());
  const [cpu, haproxyCpu, start] = [process.cpuUsage(), cpuMsOf(pid), performance.now()];
  for (let i = 0; i < LOOKS; i++) check(await look());
  const wallMs = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return {
    wallMs: wallMs / LOOKS,
    agentCpuMs: (used.user + used.system) / 1000 / LOOKS,
    haproxyCpuMs: (cpuMsOf(pid) - haproxyCpu) / LOOKS,
  };
}

const ms = (n: number): string => `${n.toFixed(2)} ms`;
const times = (a: number, b: number): string => `${(a / b).toFixed(1)}×`;

let dir: string | undefined;
let haproxy: HaproxyProcess | undefined;

async function main(): Promise<number> {
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-stat-poll-'));
  console.log(`# What a look at a slot's servers costs (${LOOKS} looks each, one at a time)\n`);
  console.log(
    `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()[0]?.toFixed(1)}\n`,
  );
  console.log('| other backends (4 servers each) | full `show stat` | by backend id | full ÷ by id |');
  console.log('|---:|---|---|---|');
  for (const otherBackends of BACKENDS) {
    haproxy = await startHaproxy({
      dir: await mkdtemp(join(dir, `h${otherBackends}-`)),
      frontendPort: await freeLoopbackPort(),
      // Ports where nothing listens, never checked: only the stats are read here.
      servers: APP_SERVERS.map((name) => ({ name, port: 9, check: false })),
      otherBackends,
    });
    const client = new HaproxyClient({ socketPath: haproxy.socketPath, timeoutMs: 5_000 });
    // What backendStat did before: the whole dump, then the backend's rows.
    const full = await measure(haproxy.pid, async () =>
      (await client.showStat()).filter((s) => s.backend === 'app'),
    );
    const byId = await measure(haproxy.pid, () => client.backendStat('app'));
    await haproxy.stop();
    haproxy = undefined;
    const cell = (c: Cost): string =>
      `${ms(c.wallMs)} wall, agent ${ms(c.agentCpuMs)} CPU, HAProxy ${ms(c.haproxyCpuMs)} CPU`;
    const ratio =
      `wall ${times(full.wallMs, byId.wallMs)}, agent ${times(full.agentCpuMs, byId.agentCpuMs)}, ` +
      `HAProxy ${times(full.haproxyCpuMs, byId.haproxyCpuMs)}`;
    console.log(`| ${otherBackends} | ${cell(full)} | ${cell(byId)} | ${ratio} |`);
  }
  console.log(
    '\nA slot looks every 50 ms for about its drain plus 1 s; with slotParallelism 2, two slots look at once.',
  );
  return 0;
}

async function teardown(): Promise<void> {
  await haproxy?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}

process.exitCode = await runWithTeardown('stat-poll bench', main, teardown);
