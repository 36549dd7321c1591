import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { InternalError } from '@fleetroll/shared';
import { cloneForImage } from '../src/docker/clone.js';
import { readContainerInspect, readImageInspect } from '../src/docker/inspect.js';
import { followPull, pullStreamError } from '../src/docker/pull.js';

/*
 * Fixtures are shaped like Docker 20.10's real replies (taken from
 * `docker inspect` of a container of fleetroll-app:v1), nulls included, and go
 * through the same narrowing as the runtime's.
 */

const ID = '125a5757a38412f39f8cd148cffe56014cf11888bcb3188668456113ca6166a2';
const SHORT_ID = ID.slice(0, 12);
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const IMAGE_CMD = ['/bin/sh', '-c', "trap 'exit 0' TERM; httpd -f -p 8080 -h /www & wait $!"];
const IMAGE_HEALTH = {
  Test: ['CMD', '/bin/wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/health'],
  Interval: 200_000_000,
  Timeout: 1_000_000_000,
  Retries: 2,
};
const IMAGE_LABELS = { 'org.fleetroll.fixture': 'app', 'org.fleetroll.version': 'v1' };

type Json = Record<string, unknown>;

function imageReply(config: Json = {}): Json {
  return {
    Id: 'sha256:ec9072cfff81a83892f8c8904a18ba6278eb0a349130a3000f8ddf91f44830b3',
    RepoTags: ['fleetroll-app:v1'],
    Config: {
      Hostname: '',
      User: '',
      ExposedPorts: { '8080/tcp': {} },
      Env: [PATH_ENV, 'APP_VERSION=v1'],
      Cmd: IMAGE_CMD,
      Healthcheck: IMAGE_HEALTH,
      Volumes: null,
      WorkingDir: '',
      Entrypoint: null,
      OnBuild: null,
      Labels: IMAGE_LABELS,
      ...config,
    },
  };
}

/** A container as Docker reports it: the image's config merged with the operator's. */
function containerReply(over: { config?: Json; host?: Json; mounts?: Json[]; networks?: Json } = {}): Json {
  return {
    Id: ID,
    Name: '/web-1',
    Image: 'sha256:ec9072cfff81a83892f8c8904a18ba6278eb0a349130a3000f8ddf91f44830b3',
    State: { Status: 'running', Running: true, ExitCode: 0, StartedAt: '2026-11-21T23:51:23.985691448Z' },
    Config: {
      Hostname: SHORT_ID,
      Domainname: '',
      User: '',
      AttachStdin: false,
      AttachStdout: true,
      AttachStderr: true,
      ExposedPorts: { '8080/tcp': {} },
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      Env: ['FOO=bar', PATH_ENV, 'APP_VERSION=v1'],
      Cmd: IMAGE_CMD,
      Healthcheck: IMAGE_HEALTH,
      Image: 'fleetroll-app:v1',
      Volumes: null,
      WorkingDir: '',
      Entrypoint: null,
      OnBuild: null,
      Labels: { ...IMAGE_LABELS, team: 'web' },
      ...over.config,
    },
    HostConfig: {
      Binds: ['/srv/web:/data', 'web-cache:/cache'],
      NetworkMode: 'front',
      PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] },
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
      AutoRemove: false,
      VolumesFrom: null,
      CapAdd: null,
      CgroupnsMode: 'host',
      Dns: [],
      ExtraHosts: null,
      Links: null,
      ShmSize: 67108864,
      Ulimits: null,
      Init: true,
      ...over.host,
    },
    Mounts: over.mounts ?? [
      {
        Type: 'volume',
        Name: 'web-cache',
        Source: '/var/lib/docker/volumes/web-cache/_data',
        Destination: '/cache',
        Driver: 'local',
        Mode: 'z',
        RW: true,
        Propagation: '',
      },
      { Type: 'bind', Source: '/srv/web', Destination: '/data', Mode: '', RW: true, Propagation: 'rprivate' },
    ],
    NetworkSettings: {
      Networks: over.networks ?? {
        front: {
          IPAMConfig: null,
          Links: null,
          Aliases: ['web', SHORT_ID],
          NetworkID: '1bd81d5518df',
          EndpointID: 'b692407340a8',
          Gateway: '172.18.0.1',
          IPAddress: '172.18.0.2',
          IPPrefixLen: 16,
          IPv6Gateway: '',
          GlobalIPv6Address: '',
          GlobalIPv6PrefixLen: 0,
          MacAddress: '02:42:ac:12:00:02',
          DriverOpts: null,
        },
      },
    },
  };
}

function clone(
  container: Json = containerReply(),
  image: Json = imageReply(),
  newImage = 'fleetroll-app:v2',
) {
  return cloneForImage(
    readContainerInspect(container, 'container web-1'),
    readImageInspect(image, 'image fleetroll-app:v1'),
    newImage,
  );
}

describe('cloneForImage: what came from the old image is left to the new one', () => {
  test('runs the new image', () => {
    assert.equal(clone().create.Image, 'fleetroll-app:v2');
  });

  test("keeps the operator's env and drops the old image's defaults, so the new image's ENV applies", () => {
    assert.deepEqual(clone().create.Env, ['FOO=bar']);
  });

  test('keeps an env var the operator set to a value of their own, even if the image has one too', () => {
    const { create } = clone(containerReply({ config: { Env: [PATH_ENV, 'APP_VERSION=pinned'] } }));
    assert.deepEqual(create.Env, ['APP_VERSION=pinned']);
  });

  test('leaves out Env entirely when every entry came from the image', () => {
    const { create } = clone(containerReply({ config: { Env: [PATH_ENV, 'APP_VERSION=v1'] } }));
    assert.equal('Env' in create, false);
  });

  test("leaves Cmd and Entrypoint to the new image when they were the old image's", () => {
    const { create } = clone();
    assert.equal('Cmd' in create, false);
    assert.equal('Entrypoint' in create, false);
  });

  test("keeps the operator's own Cmd", () => {
    const { create } = clone(containerReply({ config: { Cmd: ['httpd', '-f', '-p', '9090'] } }));
    assert.deepEqual(create.Cmd, ['httpd', '-f', '-p', '9090']);
    assert.equal('Entrypoint' in create, false);
  });

  test("with the operator's own Entrypoint, sends Cmd too, since Docker would not take the image's", () => {
    const { create } = clone(containerReply({ config: { Entrypoint: ['/bin/tini', '--'] } }));
    assert.deepEqual(create.Entrypoint, ['/bin/tini', '--']);
    assert.deepEqual(create.Cmd, IMAGE_CMD);
  });

  test('keeps an Entrypoint the operator reset (image has one, container none) as an empty list', () => {
    const { create } = clone(containerReply(), imageReply({ Entrypoint: ['/entry.sh'] }));
    assert.deepEqual(create.Entrypoint, []);
  });

  test("leaves the healthcheck to the new image when it was the old image's", () => {
    assert.equal('Healthcheck' in clone().create, false);
  });

  test('sends only the healthcheck fields the operator changed; Docker fills the rest from the new image', () => {
    const { create } = clone(containerReply({ config: { Healthcheck: { ...IMAGE_HEALTH, Interval: 5e9 } } }));
    assert.deepEqual(create.Healthcheck, { Interval: 5e9 });
  });

  test('keeps a healthcheck the operator disabled', () => {
    const { create } = clone(
      containerReply({ config: { Healthcheck: { ...IMAGE_HEALTH, Test: ['NONE'] } } }),
    );
    assert.deepEqual(create.Healthcheck, { Test: ['NONE'] });
  });

  test("keeps an operator's healthcheck on an image that has none", () => {
    const { create } = clone(containerReply(), imageReply({ Healthcheck: undefined }));
    assert.deepEqual(create.Healthcheck, IMAGE_HEALTH);
  });

  test("keeps the operator's labels and overrides, drops labels the old image set with the same value", () => {
    const { create } = clone(
      containerReply({
        config: { Labels: { ...IMAGE_LABELS, team: 'web', 'org.fleetroll.fixture': 'mine' } },
      }),
    );
    assert.deepEqual(create.Labels, { team: 'web', 'org.fleetroll.fixture': 'mine' });
  });

  test('User, WorkingDir and StopSignal: the image defaults are left out, the operator values kept', () => {
    const image = imageReply({ User: 'app', WorkingDir: '/srv', StopSignal: 'SIGQUIT' });
    assert.deepEqual(
      pick(
        clone(containerReply({ config: { User: 'app', WorkingDir: '/srv', StopSignal: 'SIGQUIT' } }), image)
          .create,
      ),
      {},
    );
    const custom = containerReply({
      config: { User: '1000:1000', WorkingDir: '/work', StopSignal: 'SIGINT' },
    });
    assert.deepEqual(pick(clone(custom, image).create), {
      User: '1000:1000',
      WorkingDir: '/work',
      StopSignal: 'SIGINT',
    });
  });

  test('drops the hostname Docker made from the old id, keeps one the operator chose', () => {
    assert.equal('Hostname' in clone().create, false);
    assert.equal(clone(containerReply({ config: { Hostname: 'web-a' } })).create.Hostname, 'web-a');
  });

  test("drops the hostname when the container shares another's network namespace (Docker refuses one)", () => {
    const shared = containerReply({ config: { Hostname: 'other' }, host: { NetworkMode: 'container:abc' } });
    assert.equal('Hostname' in clone(shared).create, false);
  });

  test("exposes the operator's and the published ports, not the old image's", () => {
    const { create } = clone(
      containerReply({
        config: { ExposedPorts: { '8080/tcp': {}, '9100/tcp': {} } },
        host: { PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] } },
      }),
    );
    assert.deepEqual(create.ExposedPorts, { '8080/tcp': {}, '9100/tcp': {} });
    const unpublished = clone(containerReply({ host: { PortBindings: {} } })).create;
    assert.equal('ExposedPorts' in unpublished, false);
  });

  test("declares the operator's volumes, not the old image's", () => {
    const { create } = clone(
      containerReply({ config: { Volumes: { '/var/lib/app': {}, '/scratch': {} } } }),
      imageReply({ Volumes: { '/var/lib/app': {} } }),
    );
    assert.deepEqual(create.Volumes, { '/scratch': {} });
  });

  test('keeps terminal settings and the stop timeout', () => {
    const { create } = clone(containerReply({ config: { Tty: true, OpenStdin: true, StopTimeout: 30 } }));
    assert.equal(create.Tty, true);
    assert.equal(create.OpenStdin, true);
    assert.equal(create.StopTimeout, 30);
    assert.equal(create.AttachStdout, true);
  });

  test('an image without a Config leaves everything as the container has it', () => {
    const { create } = clone(containerReply(), { Id: 'sha256:00', Config: null });
    assert.deepEqual(create.Env, ['FOO=bar', PATH_ENV, 'APP_VERSION=v1']);
    assert.deepEqual(create.Cmd, IMAGE_CMD);
  });
});

describe('cloneForImage: HostConfig', () => {
  test('keeps the whole HostConfig: restart policy, init, port bindings, binds, and fields it does not know', () => {
    const host = clone().create.HostConfig;
    assert.deepEqual(host?.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(host?.Init, true);
    assert.deepEqual(host?.PortBindings, { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }] });
    assert.deepEqual(host?.Binds, ['/srv/web:/data', 'web-cache:/cache']);
    assert.equal(host?.ShmSize, 67108864);
    assert.equal((host as Record<string, unknown>).CgroupnsMode, 'host');
    assert.equal(host?.NetworkMode, 'front');
  });

  test('mounts the old anonymous volumes into the new container, so their data stays', () => {
    const anonymous = 'f3a1'.repeat(16);
    const { create } = clone(
      containerReply({
        config: { Volumes: { '/var/lib/app': {} } },
        host: { Binds: ['/srv/web:/data'] },
        mounts: [
          { Type: 'volume', Name: anonymous, Destination: '/var/lib/app', RW: true },
          { Type: 'volume', Name: 'b'.repeat(64), Destination: '/ro', RW: false },
          { Type: 'bind', Source: '/srv/web', Destination: '/data', RW: true },
        ],
      }),
    );
    assert.deepEqual(create.HostConfig?.Binds, [
      '/srv/web:/data',
      `${anonymous}:/var/lib/app`,
      `${'b'.repeat(64)}:/ro:ro`,
    ]);
  });

  test('names the volume Docker made for an anonymous --mount, and keeps other --mount entries as they are', () => {
    const anonymous = 'c'.repeat(64);
    const { create } = clone(
      containerReply({
        host: {
          Binds: null,
          Mounts: [
            { Type: 'volume', Target: '/state' },
            { Type: 'bind', Source: '/etc/app', Target: '/etc/app', ReadOnly: true },
            { Type: 'tmpfs', Target: '/run' },
          ],
        },
        mounts: [
          { Type: 'volume', Name: anonymous, Destination: '/state', RW: true },
          { Type: 'bind', Source: '/etc/app', Destination: '/etc/app', RW: false },
          { Type: 'tmpfs', Source: '', Destination: '/run', RW: true },
        ],
      }),
    );
    assert.deepEqual(create.HostConfig?.Mounts, [
      { Type: 'volume', Source: anonymous, Target: '/state' },
      { Type: 'bind', Source: '/etc/app', Target: '/etc/app', ReadOnly: true },
      { Type: 'tmpfs', Source: '', Target: '/run' },
    ]);
    assert.equal(create.HostConfig?.Binds, undefined, 'a --mount volume is not mounted twice');
  });

  test('turns legacy links from their inspect form into the form create takes', () => {
    const { create } = clone(containerReply({ host: { Links: ['/db:/web-1/database', 'cache:cache'] } }));
    assert.deepEqual(create.HostConfig?.Links, ['db:database', 'cache:cache']);
  });
});

describe('cloneForImage: networks', () => {
  test("joins the container's network with its aliases, without the old id alias or runtime fields", () => {
    const { create, laterNetworks } = clone();
    assert.deepEqual(create.NetworkingConfig, { EndpointsConfig: { front: { Aliases: ['web'] } } });
    assert.deepEqual(laterNetworks, []);
  });

  test('keeps a static address and driver options', () => {
    const networks = {
      front: {
        IPAMConfig: { IPv4Address: '172.30.0.10' },
        Aliases: [SHORT_ID],
        DriverOpts: { 'com.example.opt': '1' },
        IPAddress: '172.30.0.10',
        MacAddress: '02:42:ac:1e:00:0a',
      },
    };
    const { create } = clone(containerReply({ networks }));
    assert.deepEqual(create.NetworkingConfig?.EndpointsConfig?.front, {
      IPAMConfig: { IPv4Address: '172.30.0.10' },
      DriverOpts: { 'com.example.opt': '1' },
    });
  });

  test('puts the NetworkMode network at create and connects the others afterwards', () => {
    const networks = {
      back: { Aliases: ['web-back', SHORT_ID], IPAMConfig: {}, NetworkID: 'n2' },
      front: { Aliases: ['web', SHORT_ID], NetworkID: 'n1' },
    };
    const { create, laterNetworks } = clone(containerReply({ networks }));
    assert.deepEqual(create.NetworkingConfig, { EndpointsConfig: { front: { Aliases: ['web'] } } });
    assert.deepEqual(laterNetworks, [{ network: 'back', endpoint: { Aliases: ['web-back'] } }]);
  });

  test("the default network mode is Docker's bridge network", () => {
    const networks = { bridge: { Aliases: null, NetworkID: 'n0', IPAddress: '172.17.0.2' } };
    const { create } = clone(containerReply({ host: { NetworkMode: 'default' }, networks }));
    assert.deepEqual(create.NetworkingConfig, { EndpointsConfig: { bridge: {} } });
    assert.equal(create.HostConfig?.NetworkMode, 'default');
  });

  test('host networking has no endpoint to configure', () => {
    const { create, laterNetworks } = clone(
      containerReply({ host: { NetworkMode: 'host' }, networks: { host: { NetworkID: 'h' } } }),
    );
    assert.equal('NetworkingConfig' in create, false);
    assert.deepEqual(laterNetworks, []);
  });
});

describe("reading Docker's inspect replies", () => {
  test('accepts a real reply with nulls where lists and maps are empty', () => {
    const c = readContainerInspect(containerReply(), 'container web-1');
    assert.equal(c.HostConfig.Links, null);
    assert.equal(c.Config.Volumes, null);
  });

  test('rejects a reply whose fields have the wrong type, naming the field', () => {
    const bad = containerReply({ config: { Env: 'FOO=bar' } });
    assert.throws(
      () => readContainerInspect(bad, 'container web-1'),
      (err: unknown) =>
        err instanceof InternalError &&
        /container web-1: Config\.Env should be a list of strings/.test(err.message),
    );
    assert.throws(
      () => readContainerInspect({ ...containerReply(), State: null }, 'container web-1'),
      /State/,
    );
    assert.throws(
      () =>
        readContainerInspect(containerReply({ networks: { front: { Aliases: [1] } } }), 'container web-1'),
      /NetworkSettings\.Networks\.front\.Aliases/,
    );
    assert.throws(() => readImageInspect({ Id: 5 }, 'image x'), /reply\.Id should be a string/);
  });

  test('rejects a mount type it could not recreate', () => {
    const npipe = containerReply({ host: { Mounts: [{ Type: 'npipe', Source: 'x', Target: 'y' }] } });
    assert.throws(() => readContainerInspect(npipe, 'container web-1'), /mount of type npipe/);
  });
});

describe('pull progress stream', () => {
  test('finds an error line even when it arrives split across chunks', async () => {
    const lines = [
      '{"status":"Pulling from fleetroll-app","id":"v2"}\n{"status":"Pulling fs l',
      'ayer"}\n{"errorDetail":{"message":"unknown blob"},"error":"unk',
      'nown blob"}\n',
    ];
    assert.equal(await pullStreamError(Readable.from(lines.map((l) => Buffer.from(l)))), 'unknown blob');
  });

  test('a stream of progress only is a success', async () => {
    const ok = ['{"status":"Digest: sha256:ab"}\r\n', '{"status":"Status: Downloaded newer image"}'];
    assert.equal(await pullStreamError(Readable.from(ok)), undefined);
  });
});

describe('following a pull', () => {
  const progress = (n: number) => `{"status":"Downloading","progressDetail":{"current":${n}}}\n`;

  test('a pull that goes quiet mid-layer is ended after the stall timeout and says why', async () => {
    const quiet = new Readable({ read: () => undefined });
    quiet.push(progress(32768));
    const started = Date.now();
    const end = await followPull(() => Promise.resolve(quiet), 100);
    assert.deepEqual(end, {
      ok: false,
      reason:
        'Docker reported no progress for 0.1 s (a registry that stopped sending?), so the pull was ended',
    });
    assert.ok(Date.now() - started >= 90, 'ended before the stall timeout');
    assert.ok(quiet.destroyed, 'the request to Docker is left open');
  });

  test('a request Docker never answers is ended too', async () => {
    let aborted = false;
    const never = (signal: AbortSignal) =>
      new Promise<Readable>((_, reject) =>
        signal.addEventListener('abort', () => {
          aborted = true;
          reject(new Error('The operation was aborted'));
        }),
      );
    const end = await followPull(never, 50);
    assert.equal(end.ok, false);
    assert.ok(aborted);
  });

  test('a pull its caller stops (the update was aborted) ends at once, before the stall timeout', async () => {
    const quiet = new Readable({ read: () => undefined });
    quiet.push(progress(32768));
    const started = Date.now();
    const end = await followPull(() => Promise.resolve(quiet), 10_000, AbortSignal.timeout(50));
    assert.deepEqual(end, { ok: false, reason: 'the pull was stopped before it ended' });
    assert.ok(Date.now() - started < 5_000, 'waited for the stall timeout');
    assert.ok(quiet.destroyed, 'the request to Docker is left open');

    let asked = false;
    const never = followPull(
      () => {
        asked = true;
        return Promise.resolve(quiet);
      },
      10_000,
      AbortSignal.abort(),
    );
    assert.deepEqual(await never, { ok: false, reason: 'the pull was stopped before it began' });
    assert.equal(asked, false, 'Docker was asked for a pull already stopped');
  });

  test('a slow pull that keeps moving is not cut, however long it takes', async () => {
    async function* slow() {
      for (let i = 1; i <= 6; i++) {
        await sleep(40);
        yield progress(i * 1000);
      }
      yield '{"status":"Status: Downloaded newer image"}\n';
    }
    assert.deepEqual(await followPull(() => Promise.resolve(Readable.from(slow())), 100), { ok: true });
  });

  test("Docker's own error wins over the timer, and a failed request is passed on", async () => {
    const failed = Readable.from(['{"errorDetail":{"message":"unknown blob"}}\n']);
    assert.deepEqual(await followPull(() => Promise.resolve(failed), 1_000), {
      ok: false,
      reason: 'Docker says: unknown blob',
    });
    await assert.rejects(
      followPull(() => Promise.reject(new Error('connect ENOENT')), 1_000),
      /connect ENOENT/,
    );
  });
});

function pick(create: { User?: string; WorkingDir?: string; StopSignal?: string }) {
  const { User, WorkingDir, StopSignal } = create;
  return Object.fromEntries(
    Object.entries({ User, WorkingDir, StopSignal }).filter(([, v]) => v !== undefined),
  );
}
