import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeLoopbackPort } from './ports.js';
import { findBinary, startProcess, waitUntilReady } from './process.js';

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

async function startOne(bin: string, opts: NatsServerOptions, port: number): Promise<NatsServer> {
  const name = opts.name ?? `fleetroll-test-${port}`;
  const ownDir = opts.dir === undefined;
  const storeDir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fleetroll-nats-')));

  const proc = await startProcess(bin, natsArgs({ name, port, storeDir }));
  const stop = async (): Promise<void> => {
    await proc.stop();
    if (ownDir) await rm(storeDir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(
      proc,
      `nats-server on 127.0.0.1:${port}`,
      async () => {
        const info = await infoLine(port);
        return info.startsWith('INFO ') && info.includes('"jetstream":true');
      },
      opts.readyTimeoutMs ?? 10_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message.split(';')[0]}: ${explain(proc.output())}`, { cause: err });
  }

  return { url: `nats://127.0.0.1:${port}`, port, pid: proc.pid, name, stop };
}
