import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Server, ServerCredentials, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import {
  UnknownSlotError,
  loadAgentProto,
  toServiceError,
  type AgentServiceHandlers,
  type HostDescription,
  type PrePullResult,
  type StepEvent,
} from '@fleetroll/shared';
import { GrpcAgentDirectory } from '../src/transport/grpc.js';

/** What the fake agent does with the next UpdateHost, chosen by rollout id. */
const SCRIPTS: Record<string, (call: ServerWritableStream<unknown, StepEvent>) => void> = {
  done: (call) => {
    call.write(step('HOST_STARTED'));
    call.write(step('HOST_DONE'));
    call.end();
  },
  'cut-short': (call) => {
    call.write(step('HOST_STARTED'));
    call.end();
  },
  refused: (call) => call.emit('error', toServiceError(new UnknownSlotError('host h has no slot "app9"'))),
};

function step(name: StepEvent['step']): StepEvent {
  return {
    rolloutId: 'r',
    hostId: 'h',
    slot: '',
    step: name,
    message: '',
    atUnixMs: 1,
    durationMs: 0,
    errorCode: '',
    drainTimedOut: false,
    weight: 0,
  };
}

const description: HostDescription = {
  hostId: 'h',
  groups: ['eu'],
  slots: [],
  activeRolloutId: '',
  agentVersion: '0.1.0',
  warnings: [],
};

const BUILD = `sha256:${'f'.repeat(64)}`;

let server: Server;
let directory: GrpcAgentDirectory;

before(async () => {
  const handlers: AgentServiceHandlers = {
    Describe: (_call: unknown, cb: sendUnaryData<HostDescription>) => cb(null, description),
    PrePull: (_call: unknown, cb: sendUnaryData<PrePullResult>) =>
      cb(null, { pulled: true, durationMs: 5, imageIds: [BUILD] }),
    Abort: (call: { request: { rolloutId: string } }, cb: sendUnaryData<{ accepted: boolean }>) =>
      cb(null, { accepted: call.request.rolloutId === 'running' }),
    UpdateHost: (call: ServerWritableStream<{ rolloutId: string }, StepEvent>) =>
      SCRIPTS[call.request.rolloutId]?.(call),
  };
  server = new Server();
  server.addService(loadAgentProto().fleetroll.v1.AgentService.service, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  directory = GrpcAgentDirectory.fromInventory([
    { id: 'h', grpc: `127.0.0.1:${port}` },
    { id: 'gone', grpc: '127.0.0.1:1' },
    { id: 'nowhere' },
  ]);
});

after(async () => {
  await directory?.close();
  server?.forceShutdown();
});

test('unary calls return the agent replies', async () => {
  const client = directory.client('h');
  assert.equal(directory.client('h'), client, 'one client (one channel) per host');
  assert.deepEqual(await client.describe(), description);
  assert.deepEqual(await client.prePull('app:v2'), { pulled: true, durationMs: 5, imageIds: [BUILD] });
  assert.equal(await client.abort('running'), true);
  assert.equal(await client.abort('other'), false);
});

test('update forwards every event and resolves with the terminal one', async () => {
  const seen: string[] = [];
  const end = await directory
    .client('h')
    .update({ rolloutId: 'done', image: 'app:v2' }, (e) => seen.push(e.step));
  assert.equal(end.step, 'HOST_DONE');
  assert.deepEqual(seen, ['HOST_STARTED', 'HOST_DONE']);
});

test('a refused update rejects with the agent error code', async () => {
  await assert.rejects(
    directory.client('h').update({ rolloutId: 'refused', image: 'app:v2' }, () => undefined),
    {
      code: 'UNKNOWN_SLOT',
      message: 'host h has no slot "app9"',
    },
  );
});

test('a stream that ends without a terminal event is AGENT_UNREACHABLE', async () => {
  await assert.rejects(
    directory.client('h').update({ rolloutId: 'cut-short', image: 'app:v2' }, () => undefined),
    {
      code: 'AGENT_UNREACHABLE',
      message: /without a result/,
    },
  );
});

test('an agent nobody listens for is AGENT_UNREACHABLE, fast', async () => {
  const start = Date.now();
  await assert.rejects(directory.client('gone').describe(), { code: 'AGENT_UNREACHABLE' });
  await assert.rejects(
    directory.client('gone').update({ rolloutId: 'done', image: 'app:v2' }, () => undefined),
    {
      code: 'AGENT_UNREACHABLE',
    },
  );
  assert.ok(Date.now() - start < 5_000);
});

test('a host without a grpc address is a config error naming the host', () => {
  assert.throws(() => directory.client('nowhere'), {
    code: 'CONFIG_INVALID',
    message: /host nowhere has no grpc address/,
  });
  assert.throws(() => directory.client('not-in-inventory'), { code: 'CONFIG_INVALID' });
});
