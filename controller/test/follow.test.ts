import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemoteError, type msg } from '@fleetroll/shared';
import { follow } from '../src/cli/follow.js';
import { host, status } from './status-fixtures.js';

type Update = msg.RolloutUpdate__Output;
/** One watch as the controller would serve it: these updates, then an end or an error. */
type Watch = { updates: Update[]; then: 'end' | RemoteError };

const lostController = () => new RemoteError('CONTROLLER_UNREACHABLE', 'cannot reach the controller: gone');
const running = status({ hosts: [host('h1', 'HOST_UPDATING'), host('h2', 'HOST_PENDING')] });
const succeeded = status({
  state: 'ROLLOUT_SUCCEEDED',
  finishedAtMs: 3_000,
  hosts: [host('h1', 'HOST_SUCCEEDED', { slotsDone: 3 }), host('h2', 'HOST_SUCCEEDED', { slotsDone: 3 })],
});

/** A controller API whose watches go as scripted, in turn; counts them. */
function fakeApi(watches: Watch[]) {
  const api = {
    address: '127.0.0.1:7000',
    watches: 0,
    watch(_id: string, onUpdate: (u: Update) => boolean): Promise<void> {
      const w = watches[Math.min(api.watches++, watches.length - 1)]!;
      for (const u of w.updates) if (!onUpdate(u)) return Promise.resolve();
      return w.then === 'end' ? Promise.resolve() : Promise.reject(w.then);
    },
  };
  return api;
}

async function run(api: ReturnType<typeof fakeApi>, reattachMs = 5_000) {
  let out = '';
  const io = { out: (t: string) => void (out += t), err: () => undefined };
  const code = await follow(api, 'r-1', io, { plain: true, reattachMs, probeMs: 10 }).catch(
    (err: RemoteError) => err,
  );
  return { code, out };
}

test('a watch broken mid-rollout is taken up again when the controller answers; the end decides the exit', async () => {
  const api = fakeApi([
    { updates: [{ status: running, steps: [] }], then: lostController() },
    { updates: [], then: lostController() },
    { updates: [{ status: succeeded, steps: [] }], then: 'end' },
  ]);
  const { code, out } = await run(api);
  assert.equal(code, 0, out);
  assert.equal(api.watches, 3);
  assert.match(
    out,
    /lost the controller \(cannot reach the controller: gone\); following on once it answers/,
  );
  assert.match(out, /the controller answers again after \d+\.\ds/);
  // What changed while it was away is still told, from the status.
  assert.match(out, /h1 succeeded \(3\/3 slots\)/);
  assert.match(out, /rollout r-1 succeeded: 2\/2 hosts/);
});

test('a stream that ends before the rollout does counts as a break too', async () => {
  const api = fakeApi([
    { updates: [{ status: running, steps: [] }], then: 'end' },
    { updates: [{ status: succeeded, steps: [] }], then: 'end' },
  ]);
  const { code, out } = await run(api);
  assert.equal(code, 0, out);
  assert.match(out, /lost the controller \(the controller ended the watch of r-1\)/);
});

test('a controller gone for longer than the reattach time fails the command, saying how to look again', async () => {
  const api = fakeApi([
    { updates: [{ status: running, steps: [] }], then: lostController() },
    { updates: [], then: lostController() },
  ]);
  const { code } = await run(api, 100);
  assert.ok(code instanceof RemoteError);
  assert.equal(code.code, 'CONTROLLER_UNREACHABLE');
  assert.match(code.message, /has not answered for 0\.1 s; .*fleetroll rollout status r-1/);
});

test('a controller never reached, or another error, is reported at once', async () => {
  const never = fakeApi([{ updates: [], then: lostController() }]);
  assert.equal(((await run(never)).code as RemoteError).code, 'CONTROLLER_UNREACHABLE');
  assert.equal(never.watches, 1);
  const unknown = fakeApi([
    { updates: [{ status: running, steps: [] }], then: new RemoteError('UNKNOWN_ROLLOUT', 'no rollout r-1') },
  ]);
  assert.equal(((await run(unknown)).code as RemoteError).code, 'UNKNOWN_ROLLOUT');
  assert.equal(unknown.watches, 1);
});

test('a pause ends the command with exit 3 and is not taken for a break', async () => {
  const api = fakeApi([
    {
      updates: [{ status: status({ state: 'ROLLOUT_PAUSED', message: 'h1 failed' }), steps: [] }],
      then: 'end',
    },
  ]);
  const { code, out } = await run(api);
  assert.equal(code, 3, out);
  assert.equal(api.watches, 1);
});
