import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NAME_PATTERN } from '@fleetroll/shared';

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
}

export interface HaproxyProcess {
  socketPath: string;
  configPath: string;
  frontendUrl: string;
  pid: number;
  /** SIGTERM to this process only, then wait for it to exit; safe to call twice. */
  stop(): Promise<void>;
}

// If the test process ends without stopping them, the HAProxies would keep their ports.
// One hook for all of them, not one per process, which would trip MaxListenersExceeded.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
  });
}

const BINARY_DIRS = ['/usr/sbin', '/usr/local/sbin'];
const OUTPUT_KEEP = 8 * 1024;
const STOP_GRACE_MS = 5_000;

/** Where the haproxy binary is; a missing one must fail the tests, never skip them. */
async function findHaproxy(): Promise<string> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...BINARY_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'haproxy');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `haproxy binary not found in ${dirs.join(', ')}: install it (apt-get install -y haproxy, ` +
      'which deploy/local/bootstrap.sh does)',
  );
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`startHaproxy: invalid ${what}`);
}

const validPort = (port: number): boolean => Number.isInteger(port) && port > 0 && port < 65536;

function renderConfig(
  opts: HaproxyOptions & { backend: string; checkInterMs: number },
  socketPath: string,
): string {
  const servers = opts.servers.map(
    (s) =>
      `    server ${s.name} 127.0.0.1:${s.port}${s.check === false ? '' : ' check'} weight ${s.weight ?? 100}`,
  );
  return [
    'global',
    `    stats socket ${socketPath} mode 600 level admin`,
    'defaults',
    '    mode http',
    '    timeout connect 2s',
    '    timeout client 30s',
    '    timeout server 30s',
    // A check that is slow because the machine is busy must not mark a healthy server DOWN.
    '    timeout check 2s',
    'frontend fe',
    `    bind 127.0.0.1:${opts.frontendPort}`,
    `    default_backend ${opts.backend}`,
    `backend ${opts.backend}`,
    '    balance roundrobin',
    '    option httpchk GET /health',
    // fastinter: while a server changes state (UP 1/2, DOWN 1/2) check it faster, so a
    // replaced server is seen UP again sooner; steady-state checks stay at inter.
    `    default-server inter ${opts.checkInterMs}ms fastinter 100ms fall 2 rise 1`,
    ...servers,
    '',
  ].join('\n');
}

/**
 * Asks the admin socket for `show info`. Written against node:net rather than the
 * agent's client so that a bug in the code under test cannot make the harness lie.
 */
function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    let reply = '';
    const socket = connect(socketPath, () => socket.write('show info\n'));
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (reply += chunk.toString('utf8')));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(reply.includes('Name: HAProxy')));
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
  check(!/\s/.test(opts.dir), `dir ${JSON.stringify(opts.dir)} (HAProxy config paths cannot hold spaces)`);
  for (const s of opts.servers) {
    const weightOk =
      s.weight === undefined || (Number.isInteger(s.weight) && s.weight >= 0 && s.weight <= 256);
    check(NAME_PATTERN.test(s.name) && validPort(s.port) && weightOk, `server ${JSON.stringify(s)}`);
  }

  const bin = await findHaproxy();
  const socketPath = join(opts.dir, 'haproxy.sock');
  const configPath = join(opts.dir, 'haproxy.cfg');
  await writeFile(configPath, renderConfig(opts, socketPath));

  const child = spawn(bin, ['-db', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  // A spawn failure (e.g. EACCES) arrives as 'error' and may come without 'exit'.
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  track(child);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      running.delete(child);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      // Unreferenced, or the grace timer alone would hold the test process open for its full length.
      const grace = sleep(STOP_GRACE_MS, false, { ref: false });
      const graceful = await Promise.race([exited.then(() => true), grace]);
      if (!graceful) {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopped;
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 5_000);
  for (;;) {
    const early = await Promise.race([
      exited.then((how) => `exited (${how})`),
      spawnFailed.then((err) => `failed to start (${err.message})`),
      sleep(50).then(() => null),
    ]);
    if (early !== null) {
      await stop();
      throw new Error(`haproxy ${early} before its admin socket answered; ${configPath}; output:\n${output}`);
    }
    if (await socketAnswers(socketPath)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `haproxy (pid ${child.pid}) did not answer on ${socketPath} in time; output:\n${output}`,
      );
    }
  }

  return {
    socketPath,
    configPath,
    frontendUrl: `http://127.0.0.1:${opts.frontendPort}`,
    pid: child.pid ?? 0,
    stop,
  };
}
