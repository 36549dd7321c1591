import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  HaproxySocketMissingError,
  HaproxyStateFileError,
  HaproxyTimeoutError,
  HaproxyUnexpectedReplyError,
  HaproxyUnknownServerError,
  InvalidInputError,
} from '@fleetroll/shared';
import { oldWorkers, takenOverFrom } from '../src/haproxy/old-workers.js';
import { HaproxyClient, sendCommand } from '../src/haproxy/index.js';
import { PatientLoadBalancer } from '../src/patient-lb.js';
import { STATE_DUMP, capturingLog } from './fakes.js';

/**
 * A stand-in for HAProxy's admin socket: records each command it receives and answers
 * with whatever `respond` says. `null` means never answer, to provoke the timeout.
 */
class FakeHaproxy {
  readonly commands: string[] = [];
  respond: (command: string) => string | null = () => '\n';
  private readonly server: Server;
  private readonly connections = new Set<Socket>();

  constructor(readonly socketPath: string) {
    this.server = createServer((conn) => {
      this.connections.add(conn);
      conn.on('close', () => this.connections.delete(conn));
      let received = '';
      conn.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (!received.endsWith('\n')) return;
        const command = received.slice(0, -1);
        this.commands.push(command);
        const reply = this.respond(command);
        if (reply !== null) conn.end(reply);
      });
      conn.on('error', () => undefined);
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  close(): Promise<void> {
    // A net server's close waits for open connections; a test that failed midway may leave one.
    for (const conn of this.connections) conn.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

let dir: string;
let fake: FakeHaproxy;
let client: HaproxyClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-'));
  fake = new FakeHaproxy(join(dir, 'haproxy.sock'));
  await fake.listen();
  client = new HaproxyClient({ socketPath: fake.socketPath, timeoutMs: 300 });
});

after(async () => {
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  fake.commands.length = 0;
  fake.respond = () => '\n';
});

const STAT_HEADER =
  '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,';

describe('HaproxyClient over a fake socket', () => {
  it('a connection closed without a byte (HAProxy stopping) is a reset, which a slot waits out', async () => {
    fake.respond = () => '';
    await assert.rejects(
      client.setWeight('app', 'app_1', 0),
      (err: unknown) =>
        err instanceof HaproxyUnexpectedReplyError &&
        /without answering "set weight app\/app_1 0" \(stopping\?\)/.test(err.message) &&
        (err.cause as NodeJS.ErrnoException).code === 'ECONNRESET',
    );
    let closes = 2;
    fake.respond = () => (closes-- > 0 ? '' : '\n');
    const patient = new PatientLoadBalancer(client, 5_000);
    await patient.setWeight('app', 'app_1', 0);
    assert.equal(patient.takeAbsences().length, 1);
  });

  it('sends one well-formed command per connection', async () => {
    fake.respond = () => '37 (initial 100)\n\n';
    assert.equal(await client.getWeight('app', 'app_1'), 37);
    fake.respond = () => '\n';
    await client.setWeight('app', 'app_1', 0);
    await client.setWeight('app', 'app_1', 256);
    assert.deepEqual(fake.commands, [
      'get weight app/app_1',
      'set weight app/app_1 0',
      'set weight app/app_1 256',
    ]);
  });

  it('reads a server from `show stat`, asking for servers only', async () => {
    fake.respond = () =>
      `${STAT_HEADER}\n` +
      'app,app_1,0,0,4,4,,4,0,0,,0,,0,0,0,0,UP,100,1,0,0,0,5,0,,1,3,1,,4,,2,0,,1,L7OK,\n' +
      'app,app_2,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,100,1,0,1,1,5,5,,1,3,2,,0,,2,0,,0,L4CON,\n\n';
    assert.deepEqual(await client.serverStat('app', 'app_1'), {
      backend: 'app',
      server: 'app_1',
      scur: 4,
      status: 'UP',
      checkStatus: 'L7OK',
      weight: 100,
      downCount: 0,
    });
    assert.deepEqual(fake.commands, ['show stat -1 4 -1']);
    await assert.rejects(
      client.serverStat('app', 'app_9'),
      (err: unknown) =>
        err instanceof HaproxyUnknownServerError && /"app_9" in backend "app"/.test(err.message),
    );
    await assert.rejects(
      client.serverStat('nope', 'app_1'),
      (err: unknown) => err instanceof HaproxyUnknownServerError && /backend "nope"/.test(err.message),
    );
  });

  it("asks for a backend alone by HAProxy's id of it once a full `show stat` told it, checking whose rows come back", async () => {
    const own = new HaproxyClient({ socketPath: fake.socketPath, timeoutMs: 300 });
    // iid 3 is `app`, 4 is `api`, until the reload below swaps them; a proxy named "3" shadows id 3 at the end.
    let ids = { app: 3, api: 4 };
    let named3 = false;
    const row = (backend: 'app' | 'api', server: string, scur: number): string =>
      `${backend},${server},0,0,${scur},4,,4,0,0,,0,,0,0,0,0,UP,100,1,0,0,0,5,0,,1,${ids[backend]},1,,4,,2,0,,1,L7OK,\n`;
    const everything = (): string => `${STAT_HEADER}\n${row('app', 'app_1', 1)}${row('api', 'api_1', 2)}\n`;
    fake.respond = (command) => {
      if (command === 'show stat -1 4 -1') return everything();
      const id = Number(command.split(' ')[2]);
      if (named3 && id === 3)
        return `${STAT_HEADER}\n3,x_1,0,0,0,4,,4,0,0,,0,,0,0,0,0,UP,100,1,0,0,0,5,0,,1,9,1,,4,,2,0,,1,L7OK,\n\n`;
      const backend = id === ids.app ? 'app' : id === ids.api ? 'api' : undefined;
      return `${STAT_HEADER}\n${backend === undefined ? '' : row(backend, `${backend}_1`, 1)}\n`;
    };
    const scur = async (backend: 'app' | 'api') => (await own.serverStat(backend, `${backend}_1`)).scur;

    assert.equal(await scur('app'), 1);
    assert.equal(await scur('app'), 1);
    assert.deepEqual(fake.commands.splice(0), ['show stat -1 4 -1', 'show stat 3 4 -1']);

    ids = { app: 4, api: 3 };
    assert.equal(await scur('app'), 1);
    assert.equal(await scur('app'), 1);
    assert.deepEqual(fake.commands.splice(0), ['show stat 3 4 -1', 'show stat -1 4 -1', 'show stat 4 4 -1']);

    ids = { app: 7, api: 3 };
    assert.equal(await scur('app'), 1);
    assert.deepEqual(fake.commands.splice(0), ['show stat 4 4 -1', 'show stat -1 4 -1']);

    ids = { app: 3, api: 4 };
    named3 = true;
    await scur('app');
    await scur('app');
    await scur('app');
    assert.deepEqual(fake.commands.splice(0), [
      'show stat 7 4 -1',
      'show stat -1 4 -1',
      'show stat 3 4 -1',
      'show stat -1 4 -1',
      'show stat -1 4 -1',
    ]);
  });

  it('maps "No such server." and "No such backend." replies', async () => {
    fake.respond = () => 'No such server.\n\n';
    await assert.rejects(client.getWeight('app', 'app_9'), HaproxyUnknownServerError);
    await assert.rejects(client.setWeight('app', 'app_9', 1), HaproxyUnknownServerError);
    fake.respond = () => 'No such backend.\n\n';
    await assert.rejects(
      client.setWeight('nope', 'app_1', 1),
      (err: unknown) => err instanceof HaproxyUnknownServerError && /backend "nope"/.test(err.message),
    );
  });

  it('rejects unexpected replies, quoting them', async () => {
    fake.respond = () =>
      'Unknown command, but maybe one of the following ones is a better match:\n  help\n\n';
    await assert.rejects(
      client.getWeight('app', 'app_1'),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /Unknown command/.test(err.message),
    );
    await assert.rejects(client.setWeight('app', 'app_1', 3), HaproxyUnexpectedReplyError);
    await assert.rejects(client.showStat(), HaproxyUnexpectedReplyError);
    fake.respond = () => '';
    await assert.rejects(client.getWeight('app', 'app_1'), HaproxyUnexpectedReplyError);
  });

  it('times out when HAProxy never answers, naming the command and socket', async () => {
    fake.respond = () => null;
    const started = Date.now();
    await assert.rejects(
      client.getWeight('app', 'app_1'),
      (err: unknown) =>
        err instanceof HaproxyTimeoutError &&
        err.message.includes('get weight app/app_1') &&
        err.message.includes(fake.socketPath) &&
        err.message.includes('300 ms'),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 290 && elapsed < 2000, `timed out after ${elapsed} ms`);
  });

  it('checks names and weight before anything reaches the socket', async () => {
    for (const [backend, server, field] of [
      ['app', 'app_1;disable server app/app_2', 'server'],
      ['app\nshutdown sessions server app/app_2', 'app_1', 'backend'],
      ['app', 'app 1', 'server'],
    ] as const) {
      await assert.rejects(client.getWeight(backend, server), new RegExp(`InvalidInputError: ${field}:`));
      await assert.rejects(client.setWeight(backend, server, 0), new RegExp(`InvalidInputError: ${field}:`));
      await assert.rejects(client.serverStat(backend, server), new RegExp(`InvalidInputError: ${field}:`));
    }
    for (const weight of [-1, 257, 1.5, Number.NaN]) {
      await assert.rejects(client.setWeight('app', 'app_1', weight), /InvalidInputError: weight:/);
    }
    assert.deepEqual(fake.commands, []);
  });

  it("reads the answering process's pid from `show info`, and asks the kernel whether an HAProxy runs with a pid", async () => {
    fake.respond = (command) =>
      command === 'show info' ? 'Name: HAProxy\nVersion: 2.6.12\nPid: 4242\nUptime_sec: 3\n' : null;
    assert.equal(await client.processId(), 4242);
    fake.respond = () => 'Name: HAProxy\n';
    await assert.rejects(
      client.processId(),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /no Pid line/.test(err.message),
    );
    // A real HAProxy's pid: test/integration/haproxy.test.ts.
    assert.equal(client.processRunning(process.pid), false, 'a process, but not an HAProxy');
    assert.equal(client.processRunning(2 ** 22 + 1), false, 'beyond the kernel pid limit: no such process');
  });

  it('reads the processes a reload took over from off the command line (-sf/-st, up to the next option)', async () => {
    assert.deepEqual(
      takenOverFrom(['haproxy', '-sf', '12', '13', '-x', 'sockpair@3', '-W', '-f', 'h.cfg']),
      [12, 13],
    );
    assert.deepEqual(takenOverFrom(['haproxy', '-db', '-f', 'h.cfg', '-st', '7']), [7]);
    assert.deepEqual(takenOverFrom(['haproxy', '-W', '-db', '-f', '1234.cfg']), []);
    assert.deepEqual(await client.previousProcesses(2 ** 22 + 1), [], 'no such process: none');
  });

  it('asks an old process about one server through the master CLI: its sessions, 0 once gone, unknown when it cannot tell', async () => {
    const master = new HaproxyClient({
      socketPath: fake.socketPath,
      timeoutMs: 300,
      masterSocketPath: fake.socketPath,
    });
    const replies: Record<string, string> = {
      '@!42 show stat -1 4 -1': `${STAT_HEADER}\napp,app_2,0,0,3,3,,4,0,0,,0,,0,0,0,0,UP,100,1,0,0,0,5,0,,1,3,1,,4,,2,0,,1,L7OK,\n\n`,
      '@!43 show stat -1 4 -1': "Can't find the target PID matching the prefix '@!43'\n",
      '@!44 show stat -1 4 -1': "Can't connect to the target CLI!\n",
    };
    fake.respond = (command) => replies[command] ?? '';
    assert.equal(await master.oldProcessSessions(42, 'app', 'app_2'), 3);
    assert.equal(await master.oldProcessSessions(43, 'app', 'app_2'), 0);
    assert.equal(await master.oldProcessSessions(44, 'app', 'app_2'), undefined);
    assert.equal(await master.oldProcessSessions(45, 'app', 'app_2'), undefined, 'an empty answer');
    assert.equal(await client.oldProcessSessions(42, 'app', 'app_2'), undefined, 'no master CLI');
    assert.deepEqual(fake.commands, Object.keys(replies).concat('@!45 show stat -1 4 -1'));
  });

  it("asks an old process by the id the answering one gave the backend, and in full when its rows are another proxy's", async () => {
    const master = new HaproxyClient({
      socketPath: fake.socketPath,
      timeoutMs: 300,
      masterSocketPath: fake.socketPath,
    });
    const row = (backend: string, scur: number): string =>
      `${backend},app_2,0,0,${scur},3,,4,0,0,,0,,0,0,0,0,UP,100,1,0,0,0,5,0,,1,3,1,,4,,2,0,,1,L7OK,\n`;
    const replies: Record<string, string> = {
      // The process answering now: app is proxy 3.
      'show stat -1 4 -1': `${STAT_HEADER}\n${row('app', 0)}\n`,
      '@!42 show stat 3 4 -1': `${STAT_HEADER}\n${row('app', 2)}\n`,
      // An old process on another configuration, where 3 is another proxy.
      '@!50 show stat 3 4 -1': `${STAT_HEADER}\n${row('web', 7)}\n`,
      '@!50 show stat -1 4 -1': `${STAT_HEADER}\n${row('web', 7)}${row('app', 5)}\n`,
      '@!51 show stat 3 4 -1': "Can't find the target PID matching the prefix '@!51'\n",
    };
    fake.respond = (command) => replies[command] ?? '';
    await master.serverStat('app', 'app_2');
    fake.commands.length = 0;
    assert.equal(await master.oldProcessSessions(42, 'app', 'app_2'), 2);
    assert.equal(await master.oldProcessSessions(50, 'app', 'app_2'), 5);
    assert.equal(await master.oldProcessSessions(51, 'app', 'app_2'), 0);
    assert.deepEqual(fake.commands, [
      '@!42 show stat 3 4 -1',
      '@!50 show stat 3 4 -1',
      '@!50 show stat -1 4 -1',
      '@!51 show stat 3 4 -1',
    ]);
  });

  it("asks the master CLI for HAProxy's old workers when it cannot see the process answering", async () => {
    const master = new HaproxyClient({
      socketPath: fake.socketPath,
      timeoutMs: 300,
      masterSocketPath: fake.socketPath,
    });
    // As HAProxy 2.6 answers, two reloads on: the older workers still finish their requests.
    const showProc = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
      '2879            master          2 [failed: 0]   0d00h00m05s     2.6.12-1+deb12u4',
      '# workers',
      '4997            worker          0               0d00h00m01s     2.6.12-1+deb12u4',
      '# old workers',
      '2880            worker          2               0d00h00m05s     2.6.12-1+deb12u4',
      '3001            worker          1               0d00h00m03s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n');
    // The first ask meets the master re-executing itself (no answer); the next gets the list.
    let asked = 0;
    fake.respond = (command) => (command === 'show proc' && ++asked > 1 ? showProc : '');
    assert.deepEqual(await master.previousProcesses(2 ** 22 + 1), [2880, 3001]);
    assert.deepEqual(fake.commands, ['show proc', 'show proc']);
    fake.respond = () => '';
    assert.deepEqual(await master.previousProcesses(2 ** 22 + 1), [], 'no answer for 2 s: none known');
    assert.equal(oldWorkers('Unknown command.\n'), undefined);
  });

  it('refuses to send a command that holds more than one', async () => {
    const options = { socketPath: fake.socketPath, timeoutMs: 300 };
    await assert.rejects(sendCommand(options, 'show stat;show info'), InvalidInputError);
    await assert.rejects(sendCommand(options, 'show stat\nshow info'), InvalidInputError);
    assert.deepEqual(fake.commands, []);
  });
});

describe('HaproxyClient without a listening socket', () => {
  it('reports a missing socket file', async () => {
    const missing = new HaproxyClient({ socketPath: join(dir, 'absent.sock'), timeoutMs: 300 });
    await assert.rejects(
      missing.getWeight('app', 'app_1'),
      (err: unknown) =>
        err instanceof HaproxySocketMissingError &&
        err.message.includes(join(dir, 'absent.sock')) &&
        /may not be running/.test(err.message),
    );
  });

  it('reports a path that is not a listening socket (stale file of a stopped HAProxy)', async () => {
    const stale = join(dir, 'stale.sock');
    await writeFile(stale, '');
    const client = new HaproxyClient({ socketPath: stale, timeoutMs: 300 });
    await assert.rejects(client.showStat(), HaproxySocketMissingError);
  });

  it('rejects bad options', () => {
    assert.throws(() => new HaproxyClient({ socketPath: '', timeoutMs: 100 }), InvalidInputError);
    assert.throws(() => new HaproxyClient({ socketPath: '/x', timeoutMs: 0 }), InvalidInputError);
  });
});

describe('HaproxyClient keeping a server state file', () => {
  const withState = (file: string) => {
    const { lines, log } = capturingLog();
    const keeper = new HaproxyClient({
      socketPath: fake.socketPath,
      timeoutMs: 300,
      serverState: { file, log },
    });
    return { keeper, lines };
  };

  it('saves the state with the new weight before it sets it, one weight change at a time', async () => {
    const file = join(dir, 'servers.state');
    const { keeper } = withState(file);
    const saved: string[] = [];
    fake.respond = (command) => {
      if (command === 'show servers state') return STATE_DUMP;
      // What the file said of the server as its weight was set.
      const server = command.split(' ')[2]?.split('/')[1];
      const line = readFileSync(file, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('3 app ') && l.split(' ')[3] === server);
      saved.push(`${server} ${line?.split(' ')[7]}`);
      return '\n';
    };
    await Promise.all([keeper.setWeight('app', 'app_2', 100), keeper.setWeight('app', 'app_1', 0)]);
    assert.deepEqual(fake.commands, [
      'show servers state',
      'set weight app/app_2 100',
      'show servers state',
      'set weight app/app_1 0',
    ]);
    assert.deepEqual(saved, ['app_2 100', 'app_1 0'], 'the file had each weight before HAProxy did');
  });

  it('sets the weight all the same when the state cannot be saved, and warns once until it can', async () => {
    const { keeper, lines } = withState(join(dir, 'absent', 'servers.state'));
    fake.respond = (command) => (command === 'show servers state' ? STATE_DUMP : '\n');
    await keeper.setWeight('app', 'app_2', 0);
    await keeper.setWeight('app', 'app_2', 100);
    assert.deepEqual(
      fake.commands.filter((c) => c.startsWith('set')),
      ['set weight app/app_2 0', 'set weight app/app_2 100'],
    );
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(lines[0] ?? '', /cannot write HAProxy's server state to .*absent/);
    await assert.rejects(keeper.checkServerStateFile(), HaproxyStateFileError);
  });

  it('with HAProxy stopped, edits the file it saved before, so the next HAProxy starts at that weight', async () => {
    const file = join(dir, 'stopped.state');
    await writeFile(file, STATE_DUMP);
    const { log, lines } = capturingLog();
    const stopped = new HaproxyClient({
      socketPath: join(dir, 'absent.sock'),
      timeoutMs: 300,
      serverState: { file, log },
    });
    await assert.rejects(stopped.setWeight('app', 'app_2', 100), HaproxySocketMissingError);
    const app2 = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('3 app 2 app_2 '));
    assert.equal(app2?.split(' ')[7], '100');
    assert.deepEqual(lines, []);
  });

  it('leaves a refusal of the weight to `set weight` to report', async () => {
    const { keeper, lines } = withState(join(dir, 'servers.state'));
    fake.respond = (command) => (command === 'show servers state' ? STATE_DUMP : 'No such server.\n\n');
    await assert.rejects(keeper.setWeight('app', 'app_9', 0), HaproxyUnknownServerError);
    assert.deepEqual(lines, []);
  });
});
