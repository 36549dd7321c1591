import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freeLoopbackPort } from './ports.js';
import { findBinary, startProcess, waitUntilReady, type ManagedProcess } from './process.js';

export interface NatsServerOptions {
  /** JetStream store; a temp dir (removed by stop()) when not given. */
  dir?: string;
  /** Client port; a free one when not given. */
  port?: number;
  /** Names the server in its log and in a cluster (server_name must be unique there). */
  name?: string;
  readyTimeoutMs?: number;
  /** Makes it a member of a cluster (see nats-cluster.ts). */
  cluster?: ClusterMembership;
  /** HTTP monitoring (/jsz, /healthz) on this loopback port. */
  monitorPort?: number;
}

export interface ClusterMembership {
  name: string;
  /** This member's route port. */
  port: number;
  /** The other members' route ports. */
  routes: number[];
}

export interface NatsServer {
  url: string;
  port: number;
  /** Of the process running now: restart() changes it. */
  readonly pid: number;
  name: string;
  storeDir: string;
  /** http://127.0.0.1:P when started with a monitorPort. */
  monitorUrl?: string;
  /**
   * Ends this process only, keeping its store, so that restart() can bring it back:
   * SIGTERM for a graceful stop, SIGKILL for a crash. Resolves once it has exited.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again, after kill(), on the same ports and store; resolves once it serves clients. */
  restart(): Promise<void>;
  /** SIGTERM to this pid, SIGKILL after a grace period; removes a temp store; safe to call twice. */
  stop(): Promise<void>;
}

interface ServerArgs {
  name: string;
  port: number;
  storeDir: string;
  cluster?: ClusterMembership;
  monitorPort?: number;
}

/** Command-line flags for one server; a cluster member only has more of them. */
function natsArgs(o: ServerArgs): string[] {
  const args = ['--name', o.name, '-a', '127.0.0.1', '-p', String(o.port), '-js', '-sd', o.storeDir];
  // The monitor binds to the -a address: loopback.
  if (o.monitorPort !== undefined) args.push('-m', String(o.monitorPort));
  if (o.cluster) {
    const route = (port: number): string => `nats://127.0.0.1:${port}`;
    args.push('--cluster_name', o.cluster.name, '--cluster', route(o.cluster.port));
    args.push('--routes', o.cluster.routes.map(route).join(','));
  }
  return args;
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
  const bin = await findBinary('nats-server', 'nats-server');
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

/** Spawns the server and waits until it serves clients; stops it and explains why when it does not. */
async function launch(bin: string, args: string[], port: number, readyTimeoutMs: number) {
  const proc = await startProcess(bin, args);
  try {
    await waitUntilReady(
      proc,
      `nats-server on 127.0.0.1:${port}`,
      async () => {
        const info = await infoLine(port);
        return info.startsWith('INFO ') && info.includes('"jetstream":true');
      },
      readyTimeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message.split(';')[0]}: ${explain(proc.output())}`, { cause: err });
  }
  return proc;
}

async function startOne(bin: string, opts: NatsServerOptions, port: number): Promise<NatsServer> {
  const name = opts.name ?? `fleetroll-test-${port}`;
  const ownDir = opts.dir === undefined;
  const storeDir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fleetroll-nats-')));
  const args = natsArgs({ name, port, storeDir, cluster: opts.cluster, monitorPort: opts.monitorPort });
  const readyTimeoutMs = opts.readyTimeoutMs ?? 10_000;
  const removeStore = async (): Promise<void> => {
    if (ownDir) await rm(storeDir, { recursive: true, force: true });
  };

  let proc: ManagedProcess;
  try {
    proc = await launch(bin, args, port, readyTimeoutMs);
  } catch (err) {
    await removeStore();
    throw err;
  }
  let finished = false;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    get pid() {
      return proc.pid;
    },
    name,
    storeDir,
    ...(opts.monitorPort !== undefined ? { monitorUrl: `http://127.0.0.1:${opts.monitorPort}` } : {}),
    kill: (signal: NodeJS.Signals = 'SIGTERM') => proc.stop(signal),
    async restart() {
      if (finished) throw new Error(`nats-server ${name} was stopped for good; it cannot restart`);
      const state = await Promise.race([proc.exited, sleep(0, null)]);
      if (state === null) throw new Error(`nats-server ${name} (pid ${proc.pid}) is still running`);
      proc = await launch(bin, args, port, readyTimeoutMs);
    },
    async stop() {
      finished = true;
      await proc.stop();
      await removeStore();
    },
  };
}
