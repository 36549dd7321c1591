import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDocker } from '@fleetroll/local-fleet';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
const HOST = '127.0.0.1';
const PORT = 5000;
const READY_TIMEOUT_MS = 10_000;

/**
 * A user of a registry started with `auth: true`: htpasswd wants bcrypt, and nothing on these
 * machines makes it, so the hash of this password (cost 10) is written here once.
 */
export const REGISTRY_USER = {
  username: 'fleetroll-ci',
  password: 'fleetroll-pull',
  bcrypt: '$2b$10$ZZQyyb/oEisOfWo7qrnPDutZ5RtTYpGWe5bcGLia1EAP5m0rY65YS',
} as const;

export interface Registry {
  /** host:port, the prefix of image references in this registry. */
  url: string;
  /** Where the registry keeps its blobs (to break an image on purpose). */
  storageDir: string;
  stop(): Promise<void>;
}

/** True when something accepts TCP connections on the port. */
async function portInUse(): Promise<boolean> {
  const socket = connect(PORT, HOST);
  try {
    return await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
      socket.setTimeout(1_000, () => resolve(false));
    });
  } finally {
    socket.destroy();
  }
}

/**
 * Runs Debian's docker-registry on 127.0.0.1:5000 with a config and storage of its
 * own (the packaged config listens on every interface and wants htpasswd), and
 * waits until it answers. Docker trusts loopback registries without TLS, and sends them
 * basic-auth credentials too. With `auth`, only REGISTRY_USER may push or pull.
 */
export async function startRegistry({ auth = false }: { auth?: boolean } = {}): Promise<Registry> {
  if (await portInUse()) {
    throw new Error(
      `cannot start docker-registry: ${HOST}:${PORT} is already in use (another registry from an earlier run?)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-registry-'));
  const storageDir = join(dir, 'storage');
  const configPath = join(dir, 'config.yml');
  await writeFile(
    configPath,
    [
      'version: 0.1',
      'log:',
      '  level: warn',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storageDir}`,
      'http:',
      `  addr: ${HOST}:${PORT}`,
      ...(auth
        ? ['auth:', '  htpasswd:', '    realm: fleetroll-test', `    path: ${join(dir, 'htpasswd')}`]
        : []),
      '',
    ].join('\n'),
  );
  if (auth) await writeFile(join(dir, 'htpasswd'), `${REGISTRY_USER.username}:${REGISTRY_USER.bcrypt}\n`);
  const child = spawn(REGISTRY_BIN, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let ended: string | undefined;
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exit = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      ended = `exited with ${signal ?? `status ${code}`}`;
      resolve();
    });
  });
  child.on('error', (err) => {
    ended = `could not be run: ${err.message}`;
  });

  const stop = async (): Promise<void> => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const stopped = await Promise.race([exit.then(() => true), sleep(5_000).then(() => false)]);
      if (!stopped) child.kill('SIGKILL');
    }
    await rm(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (ended === undefined && Date.now() < deadline) {
    try {
      const res = await fetch(`http://${HOST}:${PORT}/v2/`, { signal: AbortSignal.timeout(1_000) });
      // The port was free before the spawn, so an answer comes from this child, unless it has just died.
      // With auth, its refusal of a request without credentials says as much.
      if ((res.ok || (auth && res.status === 401)) && ended === undefined)
        return { url: `${HOST}:${PORT}`, storageDir, stop };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  await stop();
  throw new Error(
    `docker-registry (${REGISTRY_BIN}) did not come up on http://${HOST}:${PORT}/v2/ ` +
      `(${ended ?? `no answer within ${READY_TIMEOUT_MS / 1000} s`}); its stderr: ${stderr.trim() || '(empty)'}`,
  );
}

/** Tags a local image into the registry and pushes it there. */
export async function pushImage(localRef: string, registryRef: string): Promise<void> {
  await runDocker(['tag', localRef, registryRef]);
  await runDocker(['push', registryRef], 120_000);
}

/**
 * Pushes `ref` (in the registry) as fleetroll-app:v2 plus a 2 MB layer of its own that does not
 * compress, and removes it locally, so that pulling it must download that layer. `scratchName`
 * names the container the layer is made in (removed again).
 */
export async function pushImageWithOwnLayer(ref: string, scratchName: string): Promise<void> {
  try {
    await runDocker([
      'run',
      '--name',
      scratchName,
      'fleetroll-app:v2',
      '/bin/sh',
      '-c',
      'head -c 2000000 /dev/urandom >/blob',
    ]);
    await runDocker(['commit', scratchName, ref]);
  } finally {
    await runDocker(['rm', '-f', scratchName]).catch(() => undefined);
  }
  await runDocker(['push', ref], 120_000);
  await runDocker(['rmi', ref]);
}
