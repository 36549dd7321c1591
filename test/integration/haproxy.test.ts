import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, get, type Server, type ServerResponse } from 'node:http';
import { connect, createServer as createSocketServer, type Server as SocketServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxyClient, type ServerStat } from '@fleetroll/agent';
import {
  HaproxySocketMissingError,
  HaproxyUnknownServerError,
  InvalidInputError,
  createLogger,
} from '@fleetroll/shared';
import { freeLoopbackPort, startHaproxy, type HaproxyProcess } from '@fleetroll/local-fleet';

/*
 * One real HAProxy 2.6 with three servers: app_1 is a node:http server that passes
 * health checks and can hold a request open, app_2 points at a port where nothing
 * listens (checked, so DOWN), app_3 is unchecked at weight 0 (so it takes no traffic).
 */
let dir: string;
let app: Server;
let haproxy: HaproxyProcess | undefined;
let client: HaproxyClient;
const held: ServerResponse[] = [];
let onHeld: (() => void) | undefined;
/** app_1 answers its health checks with 503 while this is set. */
let failing = false;

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    }),
  );
}

/** Polls until `want` accepts the server's stat, bounded so that a broken check fails instead of hanging. */
async function waitForStat(
  server: string,
  want: (stat: ServerStat) => boolean,
  what: string,
): Promise<ServerStat> {
  const deadline = Date.now() + 5_000;
  let last: ServerStat | undefined;
  while (Date.now() < deadline) {
    last = await client.serverStat('app', server);
    if (want(last)) return last;
    await sleep(50);
  }
  throw new Error(`app/${server} never became ${what}; last seen ${JSON.stringify(last)}`);
}

/** GET through HAProxy's frontend on a fresh connection, so nothing lingers afterwards. */
function request(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(`${haproxy?.frontendUrl}${path}`, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} through HAProxy timed out`)));
    req.on('error', reject);
  });
}

/** The port of the node:http app (the main HAProxy's app_1). */
function appPort(): number {
  const address = app.address();
  return typeof address === 'object' && address ? address.port : 0;
}

/**
 * Another HAProxy, in a directory of its own under dir, with one server: where nothing listens
 * unless `port` is given.
 */
async function oneServerHaproxy(
  name: string,
  options: { serverState?: boolean; masterWorker?: boolean; port?: number } = {},
): Promise<HaproxyProcess> {
  const otherDir = join(dir, name);
  await mkdir(otherDir);
  return startHaproxy({
    dir: otherDir,
    frontendPort: await freeLoopbackPort(),
    servers: [{ name: 'app_1', port: options.port ?? (await freeLoopbackPort()) }],
    serverState: options.serverState,
    masterWorker: options.masterWorker,
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-'));
  app = createServer((req, res) => {
    if (req.url === '/slow') {
      held.push(res);
      onHeld?.();
      return;
    }
    if (failing && req.url === '/health') res.statusCode = 503;
    res.end('ok');
  });
  const appPort = await listen(app);
  const [frontendPort, deadPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  haproxy = await startHaproxy({
    dir,
    frontendPort,
    servers: [
      { name: 'app_1', port: appPort },
      { name: 'app_2', port: deadPort },
      { name: 'app_3', port: deadPort, weight: 0, check: false },
    ],
  });
  client = new HaproxyClient({ socketPath: haproxy.socketPath, timeoutMs: 2_000 });
});

after(async () => {
  for (const res of held) res.end();
  await haproxy?.stop();
  app.closeAllConnections();
  await new Promise<void>((resolve) => app.close(() => resolve()));
  await rm(dir, { recursive: true, force: true });
});

describe('HaproxyClient against a real HAProxy', () => {
  it('sets a weight and reads the same weight back', async () => {
    assert.equal(await client.getWeight('app', 'app_2'), 100);
    await client.setWeight('app', 'app_2', 37);
    assert.equal(await client.getWeight('app', 'app_2'), 37);
    assert.equal((await client.serverStat('app', 'app_2')).weight, 37);
    await client.setWeight('app', 'app_2', 0);
    assert.equal(await client.getWeight('app', 'app_2'), 0);
    await client.setWeight('app', 'app_2', 100);
    assert.equal(await client.getWeight('app', 'app_2'), 100);
  });

  it('names the answering process, and sees it run as an HAProxy; another program is not one', async () => {
    const pid = await client.processId();
    assert.equal(pid, haproxy?.pid);
    assert.equal(client.processRunning(pid), true);
    assert.equal(client.processRunning(process.pid), false, 'this test runs, but is no HAProxy');
  });

  it('parses live `show stat`: health states, check results, no BACKEND rows', async () => {
    await waitForStat('app_1', (s) => s.status === 'UP', 'UP');
    await waitForStat('app_2', (s) => s.status === 'DOWN', 'DOWN');
    const stats = await client.showStat();
    assert.deepEqual(
      stats.map((s) => s.server),
      ['app_1', 'app_2', 'app_3'],
    );
    const [up, down, unchecked] = stats;
    assert.deepEqual(up, {
      backend: 'app',
      server: 'app_1',
      scur: 0,
      status: 'UP',
      checkStatus: 'L7OK',
      weight: 100,
      downCount: 0,
    });
    assert.equal(down?.checkStatus, 'L4CON');
    assert.deepEqual(unchecked, {
      backend: 'app',
      server: 'app_3',
      scur: 0,
      status: 'no check',
      checkStatus: '',
      weight: 0,
      downCount: 0,
    });
  });

  it('counts each fall of a server to DOWN (chkdown), also once it is back UP', async () => {
    const before = await waitForStat('app_1', (s) => s.status === 'UP', 'UP');
    failing = true;
    try {
      await waitForStat('app_1', (s) => s.status === 'DOWN', 'DOWN');
    } finally {
      failing = false;
    }
    const back = await waitForStat('app_1', (s) => s.status === 'UP', 'UP again');
    assert.equal(back.downCount, before.downCount + 1);
  });

  it('counts a request held open in scur, and sees it drop to 0 when it ends', async () => {
    await waitForStat('app_1', (s) => s.status === 'UP', 'UP');
    const arrived = new Promise<void>((resolve) => (onHeld = resolve));
    const response = request('/slow');
    await arrived;
    assert.equal((await client.serverStat('app', 'app_1')).scur, 1);
    held.shift()?.end('done');
    assert.deepEqual(await response, { status: 200, body: 'done' });
    await waitForStat('app_1', (s) => s.scur === 0, 'idle (scur 0)');
  });

  it('reports an unknown backend or server as HaproxyUnknownServerError', async () => {
    const unknown = (name: string) => (err: unknown) =>
      err instanceof HaproxyUnknownServerError && err.message.includes(`"${name}"`);
    await assert.rejects(client.getWeight('nope', 'app_1'), unknown('nope'));
    await assert.rejects(client.getWeight('app', 'app_9'), unknown('app_9'));
    await assert.rejects(client.setWeight('nope', 'app_1', 1), unknown('nope'));
    await assert.rejects(client.setWeight('app', 'app_9', 1), unknown('app_9'));
    await assert.rejects(client.serverStat('nope', 'app_1'), unknown('nope'));
    await assert.rejects(client.serverStat('app', 'app_9'), unknown('app_9'));
  });

  it('lets no name smuggle a second command to HAProxy', async () => {
    await assert.rejects(client.setWeight('app', 'app_1;disable server app/app_2', 0), InvalidInputError);
    await assert.rejects(client.getWeight('app\ndisable server app', 'app_2'), InvalidInputError);
    assert.equal(await client.getWeight('app', 'app_1'), 100);
    assert.notEqual((await client.serverStat('app', 'app_2')).status, 'MAINT');
  });

  it('reports a missing socket, and the socket of a stopped HAProxy, as HaproxySocketMissingError', async () => {
    const absent = new HaproxyClient({ socketPath: join(dir, 'absent.sock'), timeoutMs: 2_000 });
    await assert.rejects(
      absent.getWeight('app', 'app_1'),
      (err: unknown) =>
        err instanceof HaproxySocketMissingError && err.message.includes(join(dir, 'absent.sock')),
    );

    const other = await oneServerHaproxy('stopped');
    try {
      const stoppedClient = new HaproxyClient({ socketPath: other.socketPath, timeoutMs: 2_000 });
      assert.equal(await stoppedClient.getWeight('app', 'app_1'), 100);
      await other.stop();
      assert.throws(() => process.kill(other.pid, 0), /ESRCH/);
      await assert.rejects(stoppedClient.getWeight('app', 'app_1'), HaproxySocketMissingError);
    } finally {
      await other.stop();
    }
  });
});

describe('an HAProxy reload', () => {
  it('leaves the new process naming the old one it took over from, which runs while it has requests', async () => {
    const before = await client.processId();
    // A request held open on app_1 keeps the old process alive after the reload.
    const heldNow = new Promise<void>((resolve) => (onHeld = resolve));
    const request = fetch(`${haproxy?.frontendUrl}/slow`).then((res) => res.status);
    await heldNow;
    await haproxy?.reload();
    const after = await client.processId();
    assert.notEqual(after, before);
    assert.deepEqual(await client.previousProcesses(after), [before]);
    assert.equal(client.processRunning(before), true, 'the old process finishes its request first');
    for (const res of held.splice(0)) res.end();
    assert.equal(await request, 200);
  });
});

/** A Unix socket passing each connection through to HAProxy's, keeping the command sent on it. */
async function recordingSocket(target: string, path: string, commands: string[]): Promise<SocketServer> {
  // Half-open: a client of the master CLI ends its side once it has asked, then reads the answer.
  const server = createSocketServer({ allowHalfOpen: true }, (conn) => {
    const upstream = connect(target);
    conn.once('data', (chunk: Buffer) => commands.push(chunk.toString('utf8').trim()));
    conn.pipe(upstream).pipe(conn);
    conn.on('error', () => upstream.destroy());
    upstream.on('error', () => conn.destroy());
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return server;
}

describe("a backend asked for alone, by HAProxy's id of it", () => {
  it('reads the right backend after a reload whose new configuration gives its id to a proxy named with those digits', async () => {
    const renumbered = await oneServerHaproxy('renumbered');
    const commands: string[] = [];
    const recorder = await recordingSocket(
      renumbered.socketPath,
      join(dir, 'renumbered', 'rec.sock'),
      commands,
    );
    try {
      const reader = new HaproxyClient({ socketPath: join(dir, 'renumbered', 'rec.sock'), timeoutMs: 2_000 });
      await reader.setWeight('app', 'app_1', 37);
      commands.length = 0;
      for (let i = 0; i < 3; i++) assert.equal((await reader.serverStat('app', 'app_1')).weight, 37);
      const id = /^show stat (\d+) 4 -1$/.exec(commands[1] ?? '')?.[1] ?? assert.fail(commands.join(' | '));
      assert.deepEqual(commands.splice(0), [
        'show stat -1 4 -1',
        `show stat ${id} 4 -1`,
        `show stat ${id} 4 -1`,
      ]);

      // Two backends ahead of `app`, the second named with app's id, each with a server of the same name.
      const config = await readFile(renumbered.configPath, 'utf8');
      const port = await freeLoopbackPort();
      const ahead = `backend extra\n    server app_1 127.0.0.1:${port}\nbackend ${id}\n    server app_1 127.0.0.1:${port}\n`;
      await writeFile(renumbered.configPath, config.replace('\nbackend app\n', `\n${ahead}backend app\n`));
      await renumbered.reload();
      await reader.setWeight('app', 'app_1', 42);
      await reader.setWeight('extra', 'app_1', 5);
      await reader.setWeight(id, 'app_1', 6);
      commands.length = 0;
      for (let i = 0; i < 3; i++) assert.equal((await reader.serverStat('app', 'app_1')).weight, 42);
      assert.equal(commands[0], `show stat ${id} 4 -1`);
      assert.equal(commands[1], 'show stat -1 4 -1');
      const now = /^show stat (\d+) 4 -1$/.exec(commands[2] ?? '')?.[1] ?? assert.fail(commands.join(' | '));
      assert.notEqual(now, id);
      assert.deepEqual(commands.slice(2), [`show stat ${now} 4 -1`, `show stat ${now} 4 -1`]);
      for (let i = 0; i < 2; i++) {
        assert.equal((await reader.serverStat('extra', 'app_1')).weight, 5);
        assert.equal((await reader.serverStat(id, 'app_1')).weight, 6);
      }
    } finally {
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
      await renumbered.stop();
    }
  });
});

describe("an old worker asked through the master CLI by HAProxy's id of the backend", () => {
  it('counts the request the old worker still carries, asking for the backend alone', async () => {
    const mw = await oneServerHaproxy('master', { port: appPort(), masterWorker: true });
    const masterDir = join(dir, 'master');
    const commands: string[] = [];
    const masterSocket = mw.masterSocketPath ?? assert.fail('startHaproxy gave no master socket');
    const recorder = await recordingSocket(masterSocket, join(masterDir, 'rec.sock'), commands);
    try {
      const reader = new HaproxyClient({
        socketPath: mw.socketPath,
        masterSocketPath: join(masterDir, 'rec.sock'),
        timeoutMs: 2_000,
      });
      const up = Date.now() + 5_000;
      while ((await reader.serverStat('app', 'app_1')).status !== 'UP' && Date.now() < up) await sleep(50);
      const heldNow = new Promise<void>((resolve) => (onHeld = resolve));
      const request = fetch(`${mw.frontendUrl}/slow`).then((res) => res.status);
      await heldNow;
      const old = mw.pid;
      await mw.reload();
      // The master refuses its CLI for a moment as it re-executes itself: undefined then.
      let sessions: number | undefined;
      const asked = Date.now() + 5_000;
      while (
        (sessions = await reader.oldProcessSessions(old, 'app', 'app_1')) === undefined &&
        Date.now() < asked
      )
        await sleep(50);
      assert.equal(sessions, 1);
      const toOld = commands.filter((c) => c.startsWith(`@!${old} `));
      assert.ok(toOld.length > 0);
      for (const c of toOld) assert.match(c, /^@!\d+ show stat \d+ 4 -1$/);
      for (const res of held.splice(0)) res.end();
      assert.equal(await request, 200);
    } finally {
      for (const res of held.splice(0)) res.end();
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
      await mw.stop();
    }
  });
});

describe('a server state file kept by the client', () => {
  it('gives a reloaded or restarted HAProxy the weights the client set, not the configured ones', async () => {
    const kept = await oneServerHaproxy('state', { serverState: true });
    try {
      const file = kept.serverStateFile ?? assert.fail('startHaproxy gave no server state file');
      const keeper = new HaproxyClient({
        socketPath: kept.socketPath,
        timeoutMs: 2_000,
        serverState: { file, log: createLogger('haproxy-test') },
      });
      await keeper.checkServerStateFile();
      await keeper.setWeight('app', 'app_1', 0);
      await kept.reload();
      assert.equal(await keeper.getWeight('app', 'app_1'), 0, 'after a reload');
      await kept.restart();
      assert.equal(await keeper.getWeight('app', 'app_1'), 0, 'after a restart');
      await keeper.setWeight('app', 'app_1', 42);
      await kept.reload();
      assert.equal(await keeper.getWeight('app', 'app_1'), 42);
      // A weight set by anyone else is HAProxy's alone: the reload forgets it (the control).
      const other = new HaproxyClient({ socketPath: kept.socketPath, timeoutMs: 2_000 });
      await other.setWeight('app', 'app_1', 7);
      await kept.reload();
      assert.equal(await keeper.getWeight('app', 'app_1'), 42);
      // A weight put back while HAProxy is stopped cannot be set, but the next HAProxy has it.
      await keeper.setWeight('app', 'app_1', 0);
      const restarted = kept.restart(1_500);
      await sleep(500);
      await assert.rejects(keeper.setWeight('app', 'app_1', 100), HaproxySocketMissingError);
      await restarted;
      assert.equal(
        await keeper.getWeight('app', 'app_1'),
        100,
        'after a restart that met the weight restore',
      );
    } finally {
      await kept.stop();
    }
  });
});

describe('startHaproxy', () => {
  it("fails with HAProxy's own words when it cannot start", async () => {
    const otherDir = join(dir, 'clash');
    await mkdir(otherDir);
    // HAProxy binds with SO_REUSEPORT, so only a port held by another program (the app) clashes.
    const outcome = await startHaproxy({ dir: otherDir, frontendPort: appPort(), servers: [] }).then(
      async (started) => {
        await started.stop();
        return null;
      },
      (err: unknown) => err,
    );
    assert.ok(
      outcome instanceof Error &&
        /^haproxy \(config [^)]*\) exited/.test(outcome.message) &&
        /cannot bind socket/.test(outcome.message),
      String(outcome),
    );
  });
});
