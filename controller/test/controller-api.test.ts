import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '@grpc/grpc-js';
import type { FleetrollError, msg } from '@fleetroll/shared';
import { serveControllerGrpc } from '../src/api/grpc.js';
import { ControllerApi } from '../src/cli/controller-api.js';
import { NEW, leaderAndStandby } from './rollout-fakes.js';

const request = { image: NEW, serial: ['1'] } as msg.StartRolloutRequest__Output;

/** A leader (a) and a standby (b) on one store, each serving the real gRPC API on loopback. */
async function pair(t: { after(fn: () => void): void }) {
  const { a, b } = await leaderAndStandby(5);
  const servers: Server[] = [];
  const serve = async (core: typeof a) => {
    const { server, port } = await serveControllerGrpc(core, '127.0.0.1:0');
    servers.push(server);
    return `127.0.0.1:${port}`;
  };
  const [leader, standby] = [await serve(a), await serve(b)];
  t.after(() => servers.forEach((s) => s.forceShutdown()));
  return { a, b, leader, standby };
}

test('with a list of controllers, a change goes to the leader past an unreachable one and a standby', async (t) => {
  const { a, leader, standby } = await pair(t);
  const api = new ControllerApi(`127.0.0.1:1,${standby},${leader}`);
  t.after(() => api.close());
  const { id } = await api.start(request);
  assert.equal(a.get(id).id, id, 'the leader runs it');
  // Later calls reach it too.
  assert.equal((await api.pause(id)).id, id);
});

test('one controller that stands by: its refusal is reported as it is', async (t) => {
  const { standby } = await pair(t);
  const api = new ControllerApi(standby);
  t.after(() => api.close());
  await assert.rejects(api.start(request), (err: FleetrollError) => {
    assert.equal(err.code, 'NOT_LEADER');
    assert.match(err.message, /this controller stands by; controller a leads/);
    return true;
  });
});

test('a list with an empty item is refused as bad input', () => {
  assert.throws(() => new ControllerApi('127.0.0.1:7000,'), {
    code: 'INVALID_INPUT',
    message: /--controller: "127\.0\.0\.1:7000," is not host:port/,
  });
});
