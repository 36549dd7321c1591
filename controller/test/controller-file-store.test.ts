import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { controllerConfigSchema, type msg } from '@fleetroll/shared';
import { startController, type RunningController } from '../src/daemon.js';
import { until } from './rollout-fakes.js';

test('file store: a second controller on the same state dir stands by, takes over when the first stops, and resumes what it left', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-file-store-'));
  const running: RunningController[] = [];
  t.after(async () => {
    await Promise.all(running.map((c) => c.stop().catch(() => undefined)));
    await rm(dir, { recursive: true, force: true });
  });
  const inventory = join(dir, 'inventory.yml');
  // Nothing answers there: the host fails at once and the failure action pauses the rollout.
  await writeFile(
    inventory,
    'hosts:\n  - id: fe-01\n    grpc: 127.0.0.1:1\n  - id: fe-02\n    grpc: 127.0.0.1:2\n',
  );
  const config = controllerConfigSchema.parse({
    listen: '127.0.0.1:0',
    http: { listen: '127.0.0.1:0' },
    inventory,
    stateDir: join(dir, 'state'),
  });
  const log = pino({ level: 'silent' });
  const first = await startController(config, log);
  running.push(first);
  const second = await startController(config, log);
  running.push(second);
  assert.equal(first.core.isLeader, true, 'a lone controller leads once it is up');
  assert.equal(second.core.isLeader, false);
  await assert.rejects(
    second.core.start({ image: 'app:v2', serial: ['1'] } as msg.StartRolloutRequest__Output),
    {
      code: 'NOT_LEADER',
      message: new RegExp(
        `controller 127\\.0\\.0\\.1:${first.grpcPort} \\(pid ${process.pid} on .*\\) leads`,
      ),
    },
  );

  const { id } = await first.core.start({
    image: 'app:v2',
    serial: ['1'],
  } as msg.StartRolloutRequest__Output);
  await until(() => first.core.get(id).state === 'ROLLOUT_PAUSED', 'paused by the failure action', 10_000);
  const files = await readdir(join(dir, 'state', 'rollouts'));
  // A save may be under way: its temp file sits beside the file it replaces.
  assert.deepEqual(
    files.filter((f) => !f.endsWith('.tmp')),
    [`${id}.rollout.pb`],
  );

  await first.stop();
  await until(() => second.core.isLeader, 'the standby leads', 5_000);
  const resumed = second.core.get(id);
  assert.equal(resumed.state, 'ROLLOUT_PAUSED', 'a paused rollout stays paused');
  assert.deepEqual(
    resumed.hosts.map((h) => h.state),
    ['HOST_FAILED', 'HOST_PENDING'],
  );
  // It acts on it now: an abort ends it, and the file says so.
  assert.equal(second.core.abort(id).state, 'ROLLOUT_PAUSED');
  await until(() => second.core.get(id).state === 'ROLLOUT_ABORTED', 'aborted', 5_000);
});
