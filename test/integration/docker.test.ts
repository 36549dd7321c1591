import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DockerRuntime } from '@fleetroll/agent';
import {
  ContainerNotFoundError,
  ContainerStartError,
  DockerUnavailableError,
  ImagePullError,
  InvalidInputError,
} from '@fleetroll/shared';
import { REGISTRY_USER, pushImage, pushImageWithOwnLayer, startRegistry } from '../support/registry.js';
import { startStallingProxy, type StallingProxy } from '../support/stalling-proxy.js';
import {
  DOCKER_SOCKET,
  TEST_PREFIX,
  docker,
  freeLoopbackPort,
  removeLeftovers,
  requireDocker,
  runAppContainer,
  runDocker,
  waitForAnswer,
} from '@fleetroll/local-fleet';

// A prefix of this file's own, so that its cleanup never touches another suite's containers.
const PREFIX = `${TEST_PREFIX}dk-`;
const runtime = new DockerRuntime({ socketPath: DOCKER_SOCKET });
const random = () => randomBytes(4).toString('hex');
const PATH = process.env['PATH'] ?? '';

/**
 * ensureImage pulled (or not), and says the build the tag names now: the image's id, then the
 * digest it was pulled by from the registry.
 */
async function assertEnsured(
  answer: Promise<{ pulled: boolean; buildIds: string[] }>,
  pulled: boolean,
  ref: string,
): Promise<void> {
  const { pulled: got, buildIds } = await answer;
  assert.equal(got, pulled);
  assert.equal(buildIds[0], await runtime.imageId(ref));
  const repository = ref.slice(0, ref.lastIndexOf(':'));
  assert.ok(
    buildIds.slice(1).some((d) => d.startsWith(`${repository}@sha256:`)),
    `no digest of ${repository} in ${buildIds.join(', ')}`,
  );
}

async function waitHealthy(id: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let health = '';
  while (Date.now() < deadline) {
    health = (await runtime.inspect(id)).health;
    if (health === 'healthy') return;
    await sleep(100);
  }
  throw new Error(`container ${id} is ${health}, not healthy, after ${timeoutMs} ms`);
}

async function timed<T>(op: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await op();
  return [result, Math.round(performance.now() - start)];
}

/** How a pull ended: 'pulled', or what it failed with. */
function pullOutcome(pull: Promise<unknown>): Promise<unknown> {
  return pull.then(
    () => 'pulled',
    (err: unknown) => err,
  );
}

describe('DockerRuntime against the real dockerd', () => {
  before(async () => {
    await requireDocker();
    await removeLeftovers(PREFIX);
  });
  after(async () => {
    await removeLeftovers(PREFIX);
  });

  test('pulls an image only when it is absent, and reports failed pulls', async () => {
    const registry = await startRegistry();
    const ref = `${registry.url}/fleetroll-app:v2-${random()}`;
    const brokenRef = `${registry.url}/fleetroll-app:broken-${random()}`;
    try {
      await pushImage('fleetroll-app:v2', ref);
      await runDocker(['rmi', ref]);
      assert.equal(await runtime.imageId(ref), null, `${ref} is still present locally`);

      await assertEnsured(runtime.ensureImage(ref), true, ref);
      assert.equal(await runtime.imageId(ref), await runtime.imageId('fleetroll-app:v2'));
      await assertEnsured(runtime.ensureImage(ref), false, ref);

      await assert.rejects(
        runtime.ensureImage(`${registry.url}/fleetroll-app:no-such-tag`),
        (err: unknown) => err instanceof ImagePullError && /no-such-tag.*manifest unknown/.test(err.message),
      );
      await assert.rejects(
        runtime.ensureImage('127.0.0.1:1/fleetroll-app:v2'),
        (err: unknown) => err instanceof ImagePullError && /connection refused/.test(err.message),
      );

      // Docker answers 200 before it fetches the image config; a blob missing from the
      // registry then fails the pull inside the progress stream.
      const source = `${PREFIX}commit-${random()}`;
      await runDocker(['create', '--name', source, 'fleetroll-app:v2']);
      const imageId = (
        await runDocker(['commit', '--change', `LABEL frt.unique=${random()}`, source, brokenRef])
      ).trim();
      await pushImage(brokenRef, brokenRef);
      await runDocker(['rmi', brokenRef]);
      const hex = imageId.replace('sha256:', '');
      await rm(join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex), {
        recursive: true,
      });
      await assert.rejects(
        runtime.ensureImage(brokenRef),
        (err: unknown) => err instanceof ImagePullError && /unknown blob/.test(err.message),
      );
      assert.equal(await runtime.imageId(brokenRef), null);
    } finally {
      await runDocker(['rmi', ref]).catch(() => undefined);
      await runDocker(['rmi', brokenRef]).catch(() => undefined);
      await registry.stop();
    }
  });

  test('pulls from a registry that wants credentials with those of a Docker client config (docker.authFile) or the credential helper it names, read at each pull, and says which were missing or refused', async () => {
    const registry = await startRegistry({ auth: true });
    const ref = `${registry.url}/fleetroll-app:v2-${random()}`;
    const dir = await mkdtemp(join(tmpdir(), 'fleetroll-docker-config-'));
    const authFile = join(dir, 'config.json');
    const emptyFile = join(dir, 'empty.json');
    // What `docker login` writes; the docker CLI below pushes with it too.
    const login = (password: string) =>
      writeFile(
        authFile,
        JSON.stringify({
          auths: {
            [registry.url]: { auth: Buffer.from(`${REGISTRY_USER.username}:${password}`).toString('base64') },
          },
        }),
      );
    try {
      await login(REGISTRY_USER.password);
      await writeFile(emptyFile, JSON.stringify({ auths: {} }));
      await runDocker(['tag', 'fleetroll-app:v2', ref]);
      await runDocker(['--config', dir, 'push', ref], 120_000);
      await runDocker(['rmi', ref]);

      await assert.rejects(
        new DockerRuntime({ socketPath: DOCKER_SOCKET, authFile: emptyFile }).ensureImage(ref),
        (err: unknown) =>
          err instanceof ImagePullError &&
          err.message.includes(
            `no basic auth credentials (${registry.url} wants credentials and there are none for it in ${emptyFile}: ` +
              `run docker login ${registry.url} on this host, or set docker.authFile in the agent config)`,
          ),
      );
      const withFile = new DockerRuntime({ socketPath: DOCKER_SOCKET, authFile });
      await login('not-the-password');
      await assert.rejects(
        withFile.ensureImage(ref),
        (err: unknown) =>
          err instanceof ImagePullError &&
          /unauthorized/.test(err.message) &&
          err.message.endsWith(`(${registry.url} refused the credentials for it in ${authFile})`),
      );
      assert.equal(await runtime.imageId(ref), null);

      // A new login is used by the next pull, without a new runtime (an agent restart).
      await login(REGISTRY_USER.password);
      await assertEnsured(withFile.ensureImage(ref), true, ref);
      assert.equal(await runtime.imageId(ref), await runtime.imageId('fleetroll-app:v2'));

      // The same credentials from a credential helper the file names, as ECR's or pass's would be.
      await runDocker(['rmi', ref]);
      const helper = join(dir, 'docker-credential-frt-it');
      const answer = JSON.stringify({ Username: REGISTRY_USER.username, Secret: REGISTRY_USER.password });
      await writeFile(helper, `#!/bin/sh\ncat >/dev/null\necho '${answer}'\n`, { mode: 0o755 });
      await writeFile(authFile, JSON.stringify({ credHelpers: { [registry.url]: 'frt-it' } }));
      process.env['PATH'] = `${dir}:${PATH}`;
      await assertEnsured(withFile.ensureImage(ref), true, ref);
    } finally {
      process.env['PATH'] = PATH;
      await runDocker(['rmi', ref]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await registry.stop();
    }
  });

  test('a pull that stalls in the middle of a layer is ended, by the stall timeout or by its caller, with a clear error; a later pull gets the image', async () => {
    const registry = await startRegistry();
    const stored = `${registry.url}/fleetroll-stall:${random()}`;
    let proxy: StallingProxy | undefined;
    let ref = '';
    try {
      await pushImageWithOwnLayer(stored, `${PREFIX}layer-${random()}`);
      proxy = await startStallingProxy(registry.url, 256 * 1024);
      ref = proxy.through(stored);
      const stalling = new DockerRuntime({ socketPath: DOCKER_SOCKET, pullStallTimeoutMs: 1_500 });

      // An aborted update stops its pull at once, long before the stall timeout (60 s by default).
      const [stopped, stoppedMs] = await timed(() =>
        pullOutcome(runtime.ensureImage(ref, AbortSignal.timeout(1_000))),
      );
      assert.ok(stopped instanceof ImagePullError, `expected an ImagePullError, got ${String(stopped)}`);
      assert.match(stopped.message, /cannot pull image .*: the pull was stopped before it ended/);
      assert.ok(stoppedMs >= 1_000 && stoppedMs < 5_000, `the stopped pull ended after ${stoppedMs} ms`);

      // Raced against a deadline: without the stall timeout this pull never ends, and a test
      // timeout would leave it (and this file's process) hanging.
      const [outcome, ms] = await timed(() =>
        Promise.race([
          pullOutcome(stalling.ensureImage(ref)),
          sleep(20_000, 'still pulling after 20 s', { ref: false }),
        ]),
      );
      assert.ok(outcome instanceof ImagePullError, `expected an ImagePullError, got ${String(outcome)}`);
      assert.match(outcome.message, /cannot pull image .*: Docker reported no progress for 1\.5 s/);
      assert.ok(proxy.stalls() >= 1, 'the download never reached the point where the proxy stalls it');
      assert.ok(ms >= 1_500 && ms < 10_000, `the stalled pull ended after ${ms} ms`);
      assert.equal(await runtime.imageId(ref), null, 'a stalled pull left the image behind');

      // Nothing of the stalled pull stands in the way of the next one once the registry sends again.
      proxy.heal();
      await assertEnsured(stalling.ensureImage(ref), true, ref);
    } finally {
      await proxy?.stop();
      for (const image of [ref, stored]) if (image) await runDocker(['rmi', image]).catch(() => undefined);
      await registry.stop();
    }
  });

  describe('replacing a container with a new image, and rolling back', () => {
    const name = `${PREFIX}web`;
    const asideName = `${name}-old`;
    const net = `${PREFIX}front`;
    const backNet = `${PREFIX}back`;
    const volume = `${PREFIX}data`;
    let bindDir = '';
    let port = 0;
    let oldId = '';
    let newId = '';

    before(async () => {
      bindDir = await mkdtemp(join(tmpdir(), 'fleetroll-bind-'));
      await writeFile(join(bindDir, 'hello'), 'from the host\n');
      await docker.createNetwork({ Name: net });
      await docker.createNetwork({ Name: backNet });
      await docker.createVolume({ Name: volume });
      port = await freeLoopbackPort();
    });
    after(async () => {
      await removeLeftovers(PREFIX);
      await rm(bindDir, { recursive: true, force: true });
    });

    test('the new container keeps the configuration and runs the new image', async (t) => {
      oldId = await runAppContainer({
        name,
        image: 'fleetroll-app:v1',
        hostPort: port,
        env: ['FOO=bar'],
        labels: { 'com.example.team': 'web', 'org.fleetroll.version': 'v1' },
        network: { name: net, aliases: ['web'] },
        binds: [`${bindDir}:/data`, `${volume}:/vol`],
        restartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        start: false,
      });
      await docker
        .getNetwork(backNet)
        .connect({ Container: oldId, EndpointConfig: { Aliases: ['web-back'] } });
      await runtime.start(oldId);
      await waitForAnswer(port, 'v1');
      await runDocker(['exec', name, 'sh', '-c', 'echo kept > /vol/state']);

      const [, stopMs] = await timed(() => runtime.stop(oldId, 10));
      await runtime.stop(oldId, 10); // already stopped: fine
      await runtime.rename(oldId, asideName);
      const [id, createMs] = await timed(() => runtime.createFrom(oldId, name, 'fleetroll-app:v2'));
      newId = id;
      const [, startMs] = await timed(() => runtime.start(newId));
      const [, healthyMs] = await timed(() => waitHealthy(newId));
      t.diagnostic(
        `stop ${stopMs} ms, create ${createMs} ms, start ${startMs} ms, healthy after ${healthyMs} ms`,
      );
      await waitForAnswer(port, 'v2');

      const snap = await runtime.inspect(newId);
      assert.equal(snap.name, name);
      assert.equal(snap.image, 'fleetroll-app:v2');
      assert.equal(snap.imageId, await runtime.imageId('fleetroll-app:v2'));
      assert.equal(snap.running, true);
      assert.equal(snap.health, 'healthy');
      assert.ok(Date.now() - snap.startedAtMs < 60_000, `startedAtMs ${snap.startedAtMs} is not recent`);
      const aside = await runtime.inspect(asideName);
      assert.equal(aside.id, oldId);
      assert.equal(aside.running, false);
      assert.equal(aside.state, 'exited');

      const c = await docker.getContainer(newId).inspect();
      assert.ok(c.Config.Env.includes('FOO=bar'), `env: ${c.Config.Env.join(' ')}`);
      assert.ok(c.Config.Env.includes('APP_VERSION=v2'), 'the new image ENV wins');
      assert.ok(!c.Config.Env.includes('APP_VERSION=v1'));
      assert.equal(c.Config.Labels['com.example.team'], 'web');
      assert.equal(
        c.Config.Labels['org.fleetroll.version'],
        'v2',
        'the new image label wins when it was the old default',
      );
      assert.notEqual(c.Config.Hostname, oldId.slice(0, 12));
      assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
      assert.equal(c.HostConfig.Init, true);
      assert.deepEqual(c.HostConfig.PortBindings, {
        '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }],
      });
      assert.deepEqual(c.HostConfig.Binds, [`${bindDir}:/data`, `${volume}:/vol`]);
      assert.ok(c.Config.Healthcheck?.Test?.includes('http://127.0.0.1:8080/health'));
      assert.deepEqual(
        c.NetworkSettings.Networks[net]?.Aliases?.filter((a: string) => a !== newId.slice(0, 12)),
        ['web'],
      );
      assert.deepEqual(
        c.NetworkSettings.Networks[backNet]?.Aliases?.filter((a: string) => a !== newId.slice(0, 12)),
        ['web-back'],
      );
      assert.equal(
        (await runDocker(['exec', name, 'cat', '/data/hello', '/vol/state'])).trim(),
        'from the host\nkept',
      );
      // The network alias resolves to the new container.
      assert.equal((await runDocker(['exec', name, 'wget', '-qO-', 'http://web:8080/'])).trim(), 'v2');
    });

    test('rolling back: remove the new container, bring the old one back', async () => {
      assert.ok(oldId && newId, 'needs the containers of the previous test');
      await runtime.remove(newId);
      await runtime.remove(newId); // already gone: fine
      assert.equal(await runtime.find(newId), null);
      await runtime.rename(asideName, name);
      await runtime.start(oldId);
      await waitHealthy(oldId);
      await waitForAnswer(port, 'v1');
      const snap = await runtime.inspect(name);
      assert.equal(snap.id, oldId);
      assert.equal(snap.image, 'fleetroll-app:v1');
    });
  });

  test('a container its restart policy brought back says so: restartCount', async () => {
    const name = `${PREFIX}crashy-${random()}`;
    const id = await runAppContainer({
      name,
      image: 'fleetroll-app:v1',
      hostPort: await freeLoopbackPort(),
      restartPolicy: { Name: 'always' },
    });
    const before = await runtime.inspect(id);
    assert.equal(before.restartCount, 0);
    // The app's shell exits on TERM, as it would crash; the policy starts the container again. The
    // exec may itself fail: the container can exit, taking the exec'd kill with it, before kill does.
    await runDocker(['exec', name, 'kill', '-TERM', '1']).catch(() => undefined);
    const deadline = Date.now() + 10_000;
    let after = before;
    while (!(after.restartCount > 0 && after.running) && Date.now() < deadline) {
      await sleep(100);
      after = await runtime.inspect(id);
    }
    assert.equal(after.restartCount, 1, JSON.stringify(after));
    await runtime.remove(id);
  });

  test('errors name what failed, in words an operator understands', async () => {
    const missing = `${PREFIX}missing`;
    await assert.rejects(
      runtime.inspect(missing),
      (err: unknown) => err instanceof ContainerNotFoundError && err.message.includes(missing),
    );
    assert.equal(await runtime.find(missing), null);
    await assert.rejects(runtime.stop(missing, 1), ContainerNotFoundError);
    await runtime.remove(missing); // nothing to remove is not an error

    const socketPath = `/tmp/${PREFIX}no-such-dir/docker.sock`;
    const nowhere = new DockerRuntime({ socketPath });
    for (const call of [() => nowhere.inspect('web'), () => nowhere.ensureImage('fleetroll-app:v2')]) {
      await assert.rejects(
        call(),
        (err: unknown) => err instanceof DockerUnavailableError && err.message.includes(socketPath),
      );
    }

    await assert.rejects(runtime.rename('web', 'bad name; rm -rf /'), InvalidInputError);
    await assert.rejects(runtime.inspect('../images/json'), InvalidInputError);

    const port = await freeLoopbackPort();
    const holder = await runAppContainer({
      name: `${PREFIX}holder`,
      image: 'fleetroll-app:v1',
      hostPort: port,
    });
    await assert.rejects(
      runtime.createFrom(holder, `${PREFIX}nope`, 'fleetroll-app:no-such-tag'),
      (err: unknown) =>
        err instanceof ContainerStartError && /not on this host; pull it first/.test(err.message),
    );
    // A second container on the same published port, while the first still runs.
    const clash = await runtime.createFrom(holder, `${PREFIX}clash`, 'fleetroll-app:v2');
    await assert.rejects(
      runtime.start(clash),
      (err: unknown) =>
        err instanceof ContainerStartError &&
        err.message.includes(`start container ${clash.slice(0, 12)}`) &&
        /port is already allocated/.test(err.message),
    );
  });
});
