import { setTimeout as sleep } from 'node:timers/promises';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { NAME_PATTERN } from '@fleetroll/shared';
import { findBinary, startProcess, waitUntilReady, type ManagedProcess } from './process.js';

export interface HaproxyServer {
  name: string;
  port: number;
  /** Defaults to 100, like the samples in deploy/. */
  weight?: number;
  /** Health-check the server (default); false gives a "no check" server. */
  check?: boolean;
}

export interface HaproxyOptions {
  /** Holds the config and the admin socket; the caller creates and removes it. */
  dir: string;
  frontendPort: number;
  backend?: string;
  servers: HaproxyServer[];
  checkInterMs?: number;
  /** How long to wait for the admin socket to answer after spawning. */
  readyTimeoutMs?: number;
  /**
   * Runs HAProxy as a master with workers (`-W`) and its master CLI (`-S`), as Debian's
   * haproxy.service does with `-Ws`: a reload (SIGUSR2 to the master) re-executes the master,
   * which starts a new worker and leaves the old one finishing its requests.
   */
  masterWorker?: boolean;
  /**
   * Gives HAProxy a `server-state-file` in dir (loaded by every backend), which a reload or a
   * restart starts from; whoever sets weights (the agent) keeps it up to date.
   */
  serverState?: boolean;
  /**
   * Backends of other apps ahead of this one (`other_1` …, four unchecked servers each at a port
   * where nothing listens): an HAProxy fronting many apps, whose full `show stat` is long.
   */
  otherBackends?: number;
}

export interface HaproxyProcess {
  socketPath: string;
  configPath: string;
  /** Server state changes and failed requests, one line each. */
  logPath: string;
  frontendUrl: string;
  /** The HAProxy serving now (a reload starts another): with masterWorker, its current worker. */
  readonly pid: number;
  /** With masterWorker, the master CLI's socket. */
  masterSocketPath?: string;
  /** With serverState, the file HAProxy reads its servers' state from as it starts. */
  serverStateFile?: string;
  /**
   * What a configuration change does on a real machine: a new HAProxy on the same config takes
   * over the listeners from the old one (`-x`, no connection refused meanwhile), which finishes
   * its requests and exits (`-sf`); with masterWorker, SIGUSR2 to the master, which does the same
   * with a new worker. Everything set through the socket is forgotten: weights are the config's
   * again, and every server starts UP; unless with serverState, the state file says otherwise.
   */
  reload(): Promise<void>;
  /**
   * What `systemctl restart` (a package upgrade, say) does: HAProxy stops, cutting what it carried,
   * and a new one starts on the same config `downMs` later. Not with masterWorker.
   */
  restart(downMs?: number): Promise<void>;
  /** SIGTERM to the processes this started only, then wait for them to exit; safe to call twice. */
  stop(): Promise<void>;
}

/** How long a master-worker HAProxy runs before reload() signals it (see there). */
const MASTER_SETTLE_MS = 1_000;

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`startHaproxy: invalid ${what}`);
}

const validPort = (port: number): boolean => Number.isInteger(port) && port > 0 && port < 65536;

function renderConfig(
  opts: HaproxyOptions & { backend: string; checkInterMs: number },
  socketPath: string,
  serverStateFile: string | undefined,
): string {
  const servers = opts.servers.map(
    (s) =>
      `    server ${s.name} 127.0.0.1:${s.port}${s.check === false ? '' : ' check'} weight ${s.weight ?? 100}`,
  );
  // Port 9 (discard): nothing listens there on loopback, and nothing is sent: no checks, no traffic.
  const others = Array.from({ length: opts.otherBackends ?? 0 }, (_, b) => [
    `backend other_${b + 1}`,
    ...[1, 2, 3, 4].map((n) => `    server s${n} 127.0.0.1:9`),
  ]).flat();
  return [
    'global',
    // expose-fd: a reload's new process takes the listeners over from this one (reload()).
    `    stats socket ${socketPath} mode 600 level admin expose-fd listeners`,
    // Goes to logPath through startProcess: every check result that changed and every server state
    // change, and (dontlog-normal) only the requests that went wrong, with their termination state.
    '    log stderr format iso local0',
    ...(serverStateFile ? [`    server-state-file ${serverStateFile}`] : []),
    'defaults',
    '    mode http',
    ...(serverStateFile ? ['    load-server-state-from-file global'] : []),
    '    log global',
    '    option httplog',
    '    option dontlog-normal',
    '    option log-health-checks',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    // The read timeout of a check. A check sent while a new container is starting can hang for a
    // second (docker-proxy accepts, then its SYN to the container is retransmitted): cut short, the
    // next check (fastinter) finds it up.
    '    timeout check 500ms',
    'frontend fe',
    `    bind 127.0.0.1:${opts.frontendPort}`,
    `    default_backend ${opts.backend}`,
    ...others,
    `backend ${opts.backend}`,
    '    balance roundrobin',
    '    option httpchk GET /health',
    // fastinter: while a server changes state (UP 1/3, DOWN 1/1) check it faster, so a
    // replaced server is seen UP again sooner; steady-state checks stay at inter.
    // fall 3: a healthy server goes DOWN only after about 1.7 s of unanswered checks. While one
    // slot is out, a busy machine that marked the other two DOWN (fall 2: 1.1 s) would leave
    // HAProxy without a server, answering 503 (the likeliest cause of 7 such answers in one CI
    // run). How soon a server at weight 0 goes DOWN costs nothing: the agent waits for a check
    // that passes, whatever the count.
    `    default-server inter ${opts.checkInterMs}ms fastinter 100ms fall 3 rise 1`,
    ...servers,
    '',
  ].join('\n');
}

/**
 * Asks the admin socket for `show info`: the pid of the HAProxy process answering, if one does.
 * Written against node:net rather than the agent's client so that a bug in the code under test
 * cannot make the harness lie.
 */
function answeringPid(socketPath: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(socketPath, () => socket.write('show info\n'));
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('utf8')));
    socket.on('error', () => resolve(undefined));
    socket.on('close', () => {
      const pid = reply.includes('Name: HAProxy') ? /\nPid: (\d+)\n/.exec(reply)?.[1] : undefined;
      resolve(pid === undefined ? undefined : Number(pid));
    });
  });
}

/**
 * Starts one real HAProxy in the foreground (-db), so that the child's pid is
 * HAProxy's own and stop() can end exactly the process this call started.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<HaproxyProcess> {
  // `??` rather than spread defaults: an explicit `backend: undefined` must still get the default.
  const opts = { ...options, backend: options.backend ?? 'app', checkInterMs: options.checkInterMs ?? 300 };
  check(validPort(opts.frontendPort), `frontendPort ${opts.frontendPort}`);
  check(NAME_PATTERN.test(opts.backend), `backend ${JSON.stringify(opts.backend)}`);
  check(Number.isInteger(opts.checkInterMs) && opts.checkInterMs > 0, `checkInterMs ${opts.checkInterMs}`);
  const otherBackends = opts.otherBackends ?? 0;
  check(Number.isInteger(otherBackends) && otherBackends >= 0, `otherBackends ${otherBackends}`);
  check(!/\s/.test(opts.dir), `dir ${JSON.stringify(opts.dir)} (HAProxy config paths cannot hold spaces)`);
  for (const s of opts.servers) {
    const weightOk =
      s.weight === undefined || (Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 256);
    check(NAME_PATTERN.test(s.name) && validPort(s.port) && weightOk, `server ${JSON.stringify(s)}`);
  }

  const bin = await findBinary('haproxy', 'haproxy');
  const socketPath = join(opts.dir, 'haproxy.sock');
  const configPath = join(opts.dir, 'haproxy.cfg');
  const logPath = join(opts.dir, 'haproxy.log');
  const serverStateFile = opts.serverState ? join(opts.dir, 'servers.state') : undefined;
  await writeFile(configPath, renderConfig(opts, socketPath, serverStateFile));

  const base = {
    socketPath,
    configPath,
    logPath,
    serverStateFile,
    frontendUrl: `http://127.0.0.1:${opts.frontendPort}`,
  };
  const what = `haproxy (config ${configPath})`;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 5_000;
  if (opts.masterWorker) {
    const masterSocketPath = join(opts.dir, 'master.sock');
    const master = await startProcess(bin, ['-W', '-db', '-S', masterSocketPath, '-f', configPath], {
      logFile: logPath,
    });
    let worker = 0;
    // Ready once a worker other than the one before (none, at first) answers the admin socket.
    const newWorker = () => {
      const before = worker;
      return waitUntilReady(
        master,
        what,
        async () => {
          const pid = await answeringPid(socketPath);
          if (pid !== undefined && pid !== before) worker = pid;
          return worker !== before;
        },
        readyTimeoutMs,
      );
    };
    await newWorker();
    // Reloaded within about a second of its start while its worker held a request, the master now
    // and then ignored the SIGUSR2 (3 of 10 times here, HAProxy 2.6); no real reload comes that early.
    // Unreferenced: a caller that never reloads need not wait for it to exit.
    const settled = sleep(MASTER_SETTLE_MS, undefined, { ref: false });
    return {
      ...base,
      masterSocketPath,
      get pid() {
        return worker;
      },
      async reload() {
        await settled;
        process.kill(master.pid, 'SIGUSR2');
        await newWorker();
      },
      restart: () => Promise.reject(new Error('startHaproxy: restart is not implemented with masterWorker')),
      // The master takes its workers, old ones included, with it.
      stop: () => master.stop(),
    };
  }

  const start = async (takeOverFrom?: ManagedProcess): Promise<ManagedProcess> => {
    const takeOver = takeOverFrom ? ['-x', socketPath, '-sf', String(takeOverFrom.pid)] : [];
    const proc = await startProcess(bin, ['-db', '-f', configPath, ...takeOver], { logFile: logPath });
    await waitUntilReady(
      proc,
      what,
      async () => (await answeringPid(socketPath)) === proc.pid,
      readyTimeoutMs,
    );
    return proc;
  };
  // Every process started, so that stop() ends an old one that is still finishing its requests.
  const procs = [await start()];
  const current = (): ManagedProcess => procs.at(-1)!;

  return {
    ...base,
    get pid() {
      return current().pid;
    },
    async reload() {
      procs.push(await start(current()));
    },
    async restart(downMs = 0) {
      await Promise.all(procs.map((p) => p.stop()));
      await sleep(downMs);
      procs.push(await start());
    },
    stop: async () => {
      await Promise.all(procs.map((p) => p.stop()));
    },
  };
}
