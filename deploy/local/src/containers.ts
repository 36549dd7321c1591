import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import Docker from 'dockerode';

/** Every container, network and volume a test makes starts with this, so leftovers can be found. */
export const TEST_PREFIX = 'frt-';
export const DOCKER_SOCKET = '/var/run/docker.sock';
/** Debian's client, which matches the daemon (another client on PATH may not). */
export const DOCKER_CLI = '/usr/bin/docker';

export const docker = new Docker({ socketPath: DOCKER_SOCKET });

const run = promisify(execFile);

/** Runs the docker CLI; fails with its stderr, which says what went wrong. */
export async function runDocker(args: string[], timeoutMs = 60_000): Promise<string> {
  try {
    const { stdout } = await run(DOCKER_CLI, args, { timeout: timeoutMs });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`docker ${args.join(' ')} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** Fails (never skips) when dockerd is not there, with a message that says how to get it. */
export async function requireDocker(): Promise<void> {
  try {
    await docker.ping();
  } catch (err) {
    throw new Error(
      `dockerd is not reachable at ${DOCKER_SOCKET} (${(err as Error).message}); ` +
        'start it with `npm run bootstrap` (deploy/local/bootstrap.sh)',
      { cause: err },
    );
  }
}

function checkPrefix(prefix: string): void {
  // A short or empty prefix would match things that are not ours.
  if (!prefix.startsWith(TEST_PREFIX))
    throw new Error(`test names must start with ${TEST_PREFIX}: ${prefix}`);
}

/**
 * Force-removes the containers, then networks and volumes, whose names start with
 * `prefix`, e.g. what a killed test run left behind. Matching is by name prefix only:
 * Docker's own name filter matches substrings, so it is applied here instead.
 * Containers go one at a time: dockerd 20.10.24 (Debian's) can deadlock for good when
 * containers of one network exit at the same moment (moby/moby#46661, fixed in 20.10.27);
 * seen here once, force-removing a 6-host fleet's 18 containers at once.
 */
export async function removeLeftovers(prefix: string): Promise<void> {
  checkPrefix(prefix);
  const containers = await docker.listContainers({ all: true });
  const ours = containers.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix)));
  for (const c of ours) await docker.getContainer(c.Id).remove({ force: true, v: false }).catch(gone);
  const networks = await docker.listNetworks();
  await Promise.all(
    networks
      .filter((n) => n.Name.startsWith(prefix))
      .map((n) => docker.getNetwork(n.Id).remove().catch(gone)),
  );
  const { Volumes: volumes } = await docker.listVolumes();
  await Promise.all(
    (volumes ?? [])
      .filter((v) => v.Name.startsWith(prefix))
      .map((v) => docker.getVolume(v.Name).remove().catch(gone)),
  );
}

/** Something else (a parallel cleanup, AutoRemove) got there first: that is the wanted outcome. */
function gone(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 404) throw err;
}

export interface AppContainerOptions {
  name: string;
  /** One of the fixture images, e.g. fleetroll-app:v1. */
  image: string;
  /** Published on 127.0.0.1 only, to the app's port 8080. */
  hostPort: number;
  env?: string[];
  labels?: Record<string, string>;
  /** A user-defined network to join, with optional aliases. */
  network?: { name: string; aliases?: string[] };
  /** docker's -v: "host-dir:/path" or "volume:/path". */
  binds?: string[];
  restartPolicy?: { Name: string; MaximumRetryCount?: number };
  /** Defaults to true. */
  start?: boolean;
  /** Overrides the image's command, as an operator's `docker run ... CMD` would. */
  cmd?: string[];
  /**
   * The image's HEALTHCHECK as it is (default), its test every `intervalMs` (every check is a
   * `docker exec`: a fleet of many containers on two cores wants fewer), or none: readiness is
   * then the agent's minReady and HAProxy's own check.
   */
  healthcheck?: { intervalMs: number } | 'none';
}

function dockerHealthcheck(wanted: AppContainerOptions['healthcheck']) {
  if (wanted === undefined) return undefined;
  if (wanted === 'none') return { Test: ['NONE'] };
  // The test itself is inherited (empty Test); a busy machine gets a longer timeout and more retries.
  return { Test: [], Interval: wanted.intervalMs * 1_000_000, Timeout: 3_000_000_000, Retries: 3 };
}

/** Creates (and by default starts) an app container like an operator would run one; returns its id. */
export async function runAppContainer(opts: AppContainerOptions): Promise<string> {
  checkPrefix(opts.name);
  const container = await docker.createContainer({
    name: opts.name,
    Image: opts.image,
    Cmd: opts.cmd,
    Healthcheck: dockerHealthcheck(opts.healthcheck),
    Env: opts.env,
    Labels: opts.labels,
    ExposedPorts: { '8080/tcp': {} },
    HostConfig: {
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(opts.hostPort) }] },
      Binds: opts.binds,
      RestartPolicy: opts.restartPolicy,
      // So that a graceful stop takes milliseconds, not the whole stop timeout (see RECIPES.md).
      Init: true,
      NetworkMode: opts.network?.name,
    },
    NetworkingConfig: opts.network
      ? { EndpointsConfig: { [opts.network.name]: { Aliases: opts.network.aliases } } }
      : undefined,
  });
  if (opts.start ?? true) await container.start();
  return container.id;
}

/** Polls the app on 127.0.0.1:port until it serves `expected` at / (its version); bounded. */
export async function waitForAnswer(port: number, expected: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) });
      const body = (await res.text()).trim();
      if (res.ok && body === expected) return;
      last = `HTTP ${res.status} "${body}"`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`127.0.0.1:${port} did not answer "${expected}" within ${timeoutMs} ms (last: ${last})`);
}
