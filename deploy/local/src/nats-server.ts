import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from './ports.js';

export interface NatsServerOptions {
  /** JetStream store; a temp dir (removed by stop()) when not given. */
  dir?: string;
  /** Client port; a free one when not given. */
  port?: number;
  /** Names the server in its log and, later, in a cluster (server_name must be unique there). */
  name?: string;
  readyTimeoutMs?: number;
}

export interface NatsServer {
  url: string;
  port: number;
  pid: number;
  name: string;
  /** SIGTERM to this pid, SIGKILL after a grace period; removes a temp store; safe to call twice. */
  stop(): Promise<void>;
}

const BINARY_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/bin'];
const OUTPUT_KEEP = 8 * 1024;
const STOP_GRACE_MS = 5_000;

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
// A test process that ends without stop() must not leave servers holding ports.
function track(child: ChildProcess): void {
  running.add(child);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of running) proc.kill('SIGKILL');
  });
}

/** A missing nats-server must fail the tests that need it, never skip them. */
async function findNatsServer(): Promise<string> {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), ...BINARY_DIRS];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  throw new Error(
    `nats-server binary not found in ${dirs.join(', ')}: install it (apt-get install -y nats-server, ` +
      'which deploy/local/bootstrap.sh does)',
  );
}

/**
 * Command-line flags for one server. A cluster member needs only more of them
 * (--cluster nats://127.0.0.1:P, --routes ..., --cluster_name), hence this seam.
 */
function natsArgs(o: { name: string; port: number; storeDir: string }): string[] {
  return ['--name', o.name, '-a', '127.0.0.1', '-p', String(o.port), '-js', '-sd', o.storeDir];
}

/** The first thing a NATS server says to a client is INFO; with "jetstream":true it can serve KV. */
function infoLine(port: number): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1_000, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

/** The lines that say why nats-server gave up, ahead of the whole log. */
function explain(output: string): string {
  const fatal = output.split('\n').filter((l) => /\[(FTL|ERR)\]/.test(l));
  return `${fatal.join('; ') || 'no error line'}; its log:\n${output}`;
}

/** Starts a real nats-server with JetStream on loopback and waits until it serves clients. */
export async function startNatsServer(opts: NatsServerOptions = {}): Promise<NatsServer> {
  const bin = await findNatsServer();
  // A port picked here can be taken by someone else before the server binds it: pick again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOne(bin, opts, opts.port ?? (await freeLoopbackPort()));
    } catch (err) {
      const raced = opts.port === undefined && /address already in use/.test(String(err));
      if (!raced || attempt >= 3) throw err;
    }
  }
}

async function startOne(bin: string, opts: NatsServerOptions, port: number): Promise<NatsServer> {
  const name = opts.name ?? `fleetroll-test-${port}`;
  const ownDir = opts.dir === undefined;
  const storeDir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fleetroll-nats-')));

  const child = spawn(bin, natsArgs({ name, port, storeDir }), { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_KEEP);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ?? `code ${code}`));
  });
  const spawnFailed = new Promise<Error>((resolve) => child.once('error', resolve));
  track(child);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      running.delete(child);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill('SIGTERM');
        const grace = sleep(STOP_GRACE_MS, false, { ref: false });
        if (!(await Promise.race([exited.then(() => true), grace]))) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      if (ownDir) await rm(storeDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? 10_000);
  for (;;) {
    const early = await Promise.race([
      exited.then((how) => `exited (${how})`),
      spawnFailed.then((err) => `failed to start (${err.message})`),
      sleep(50).then(() => null),
    ]);
    if (early !== null) {
      await stop();
      throw new Error(`nats-server ${early} before serving on 127.0.0.1:${port}: ${explain(output)}`);
    }
    const info = await infoLine(port);
    if (info.startsWith('INFO ') && info.includes('"jetstream":true')) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `nats-server (pid ${child.pid}) did not serve JetStream on 127.0.0.1:${port} in time: ${explain(output)}`,
      );
    }
  }

  return { url: `nats://127.0.0.1:${port}`, port, pid: child.pid ?? 0, name, stop };
}
