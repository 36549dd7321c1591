import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DockerRuntime } from '@fleetroll/agent';
import { updateHost } from '../support/agent-rpc.js';
import { AGENT_MAIN } from '@fleetroll/local-fleet';
import { localHostForTests } from '../support/local-host.js';

const local = localHostForTests({ hostId: 'h2', index: 2 });
const docker = new DockerRuntime({ socketPath: '/var/run/docker.sock' });

/** Weights and container ids: if bad input changed anything, this changes. */
async function snapshot(): Promise<string> {
  const weights = await Promise.all([1, 2, 3].map((i) => local.lb.getWeight('app', `app_${i}`)));
  const ids = await Promise.all(local.host.containers.map(async (c) => (await docker.inspect(c)).id));
  return JSON.stringify({ weights, ids });
}

const BAD_REQUESTS = [
  { name: 'unknown slot', req: { slots: ['app1', 'app9'] }, code: 'UNKNOWN_SLOT', message: /no slot "app9"/ },
  {
    name: 'malformed image',
    req: { image: 'Fleetroll App!!' },
    code: 'INVALID_INPUT',
    message: /image: is not a valid image reference/,
  },
  {
    name: 'injection in a slot name',
    req: { slots: ['app1\nset weight app/app_2 0'] },
    code: 'INVALID_INPUT',
    message: /slots\.0: must be 1-63 characters/,
  },
  { name: 'missing rollout id', req: { rolloutId: '' }, code: 'INVALID_INPUT', message: /rolloutId/ },
  {
    name: 'a build that is no image id',
    req: { imageIds: ['latest'] },
    code: 'INVALID_INPUT',
    message: /imageIds\.0: must be an image id \(sha256:…\) or a digest/,
  },
];

for (const bad of BAD_REQUESTS) {
  test(`UpdateHost with ${bad.name} is refused with a clear error and changes nothing`, async () => {
    const before = await snapshot();
    const result = await updateHost(local.host.agent.client, {
      rolloutId: 'it-bad',
      image: 'fleetroll-app:v2',
      ...bad.req,
    });
    assert.equal(result.error?.fleetrollCode, bad.code, JSON.stringify(result));
    assert.match(result.error?.details ?? '', bad.message);
    assert.deepEqual(result.events, []);
    assert.equal(await snapshot(), before);
  });
}

test('UpdateHost for another build than the image names here (the tag moved) fails IMAGE_MISMATCH and changes nothing', async () => {
  const before = await snapshot();
  const result = await updateHost(local.host.agent.client, {
    rolloutId: 'it-other-build',
    image: 'fleetroll-app:v2',
    imageIds: [`sha256:${'0'.repeat(64)}`],
  });
  assert.deepEqual(
    result.events.map((e) => e.step),
    ['HOST_STARTED', 'HOST_FAILED'],
  );
  const failed = result.events.at(-1);
  assert.equal(failed?.errorCode, 'IMAGE_MISMATCH');
  assert.match(
    failed?.message ?? '',
    /^fleetroll-app:v2 is sha256:[0-9a-f]{12} here, not sha256:000000000000, the build this update must install: /,
  );
  assert.equal(await snapshot(), before);
});

async function runAgentWith(edit: (cfg: Record<string, unknown>) => void) {
  const cfg = parse(await readFile(local.host.configPath, 'utf8')) as Record<string, unknown>;
  edit(cfg);
  const path = join(local.host.dir, 'bad-agent.yml');
  await writeFile(path, stringify(cfg));
  return spawnSync(process.execPath, [AGENT_MAIN, '--config', path], { encoding: 'utf8', timeout: 15_000 });
}

test('a config with a missing field: exit 2, one line naming the field', async () => {
  const res = await runAgentWith((cfg) => delete cfg['haproxy']);
  assert.equal(res.status, 2);
  assert.match(res.stderr.trim(), /^fleetroll-agent: CONFIG_INVALID: .*bad-agent\.yml: haproxy: /);
  assert.equal(res.stderr.trim().split('\n').length, 1);
});

test('a registry credentials file (docker.authFile) that is not there: exit 2 at the start, one line naming it', async () => {
  const missing = join(local.host.dir, 'no-such-docker-config.json');
  const res = await runAgentWith((cfg) => {
    cfg['docker'] = { ...(cfg['docker'] as object | undefined), authFile: missing };
  });
  assert.equal(res.status, 2);
  assert.equal(
    res.stderr.trim(),
    `fleetroll-agent: CONFIG_INVALID: cannot read registry credentials ${missing}: no such file`,
  );
});

test('a config with an injection attempt in a backend name is refused', async () => {
  const before = await snapshot();
  const res = await runAgentWith((cfg) => {
    (cfg['slots'] as Record<string, string>[])[0]!['backend'] = 'app/app_2 0;set weight app';
  });
  assert.equal(res.status, 2);
  assert.match(res.stderr, /slots\.0\.backend: must be 1-63 characters/);
  assert.equal(await snapshot(), before);
});

test('a slot whose HAProxy server does not exist: refused before anything changes', async () => {
  const before = await snapshot();
  await local.host.agent.stop();
  const cfgText = await readFile(local.host.configPath, 'utf8');
  try {
    const cfg = parse(cfgText) as { slots: { server: string }[] };
    cfg.slots[2]!.server = 'app_9';
    await writeFile(local.host.configPath, stringify(cfg));
    const agent = await local.host.restartAgent();
    const result = await updateHost(agent.client, { rolloutId: 'it-bad', image: 'fleetroll-app:v2' });
    assert.equal(result.error?.fleetrollCode, 'HAPROXY_UNKNOWN_SERVER');
    assert.match(result.error?.details ?? '', /app_9/);
    assert.equal(await snapshot(), before);
  } finally {
    await local.host.agent.stop();
    await writeFile(local.host.configPath, cfgText);
    await local.host.restartAgent();
  }
});
