import type { TestContext } from 'node:test';
import { randomBytes } from 'node:crypto';
import { runDocker, TEST_PREFIX } from '@fleetroll/local-fleet';

type Version = 'v1' | 'v2';

/**
 * A tag of the test's own (`name:<random>`) on one fixture build, removed after the test; `move()`
 * puts it on the other build, as a push of that tag would.
 */
export async function movingTag(
  t: TestContext,
  name: string,
  from: Version,
  to: Version,
): Promise<{ tag: string; move: () => Promise<void> }> {
  const tag = `${TEST_PREFIX}${name}:${randomBytes(4).toString('hex')}`;
  await runDocker(['tag', `fleetroll-app:${from}`, tag]);
  t.after(() => runDocker(['rmi', tag]).catch(() => undefined));
  return { tag, move: () => runDocker(['tag', `fleetroll-app:${to}`, tag]).then(() => undefined) };
}
