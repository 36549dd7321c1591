import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Msg, NatsConnection, Status } from '@nats-io/transport-node';
import { codecs, createLogger, subjects, type StepEvent } from '@fleetroll/shared';
import { DEFAULT_NATS_TIMEOUTS, NatsAgentClient, type Liveness } from '../src/transport/nats.js';

const HOST = 'h1';

function message(subject: string, data: Uint8Array): Msg {
  return { subject, sid: 1, data } as unknown as Msg;
}

/** Just what NatsAgentClient uses of a connection: subscribe, request and status, driven by the test. */
class FakeConnection {
  /** What the agent's Describe says it runs. */
  activeRolloutId = 'r1';
  describes = 0;
  private readonly subs = new Map<string, (err: Error | null, msg: Msg) => void>();
  private readonly listeners = new Set<(s: Status) => void>();

  subscribe(subject: string, opts: { callback: (err: Error | null, msg: Msg) => void }) {
    this.subs.set(subject, opts.callback);
    return { unsubscribe: () => this.subs.delete(subject) };
  }

  request(subject: string): Promise<Msg> {
    if (subject === subjects.agent(HOST, 'UpdateHost'))
      return Promise.resolve(message(subject, new Uint8Array()));
    if (subject === subjects.agent(HOST, 'Describe')) {
      this.describes += 1;
      const description = { hostId: HOST, groups: [], slots: [], activeRolloutId: this.activeRolloutId };
      return Promise.resolve(message(subject, codecs.describeResponse.encode(description)));
    }
    return Promise.reject(new Error(`unexpected request on ${subject}`));
  }

  status(): AsyncIterable<Status> {
    const queue: Status[] = [];
    let wake: () => void = () => undefined;
    const listener = (s: Status): void => {
      queue.push(s);
      wake();
    };
    this.listeners.add(listener);
    const listeners = this.listeners;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          for (;;) {
            while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
            yield queue.shift()!;
          }
        } finally {
          listeners.delete(listener);
        }
      },
    };
  }

  emit(status: Status): void {
    for (const listener of this.listeners) listener(status);
  }

  publish(step: StepEvent['step']): void {
    const subject = subjects.events('r1', HOST);
    const event = { rolloutId: 'r1', hostId: HOST, step, slot: '', message: '', atUnixMs: 1 };
    this.subs.get(subject)?.(null, message(subject, codecs.stepEvent.encode(event)));
  }

  get listening(): number {
    return this.listeners.size;
  }
}

const alive: Liveness = { onDead: () => () => undefined, isAlive: () => true };

function client(nc: FakeConnection, liveness: Liveness = alive): NatsAgentClient {
  const log = createLogger('test', { write: () => undefined });
  return new NatsAgentClient(HOST, nc as unknown as NatsConnection, liveness, DEFAULT_NATS_TIMEOUTS, log);
}

const reconnect: Status = { type: 'reconnect', server: '127.0.0.1:4222' };

test('after a reconnect, an update the agent no longer runs and whose end never came is AGENT_UNREACHABLE', async () => {
  const nc = new FakeConnection();
  const update = client(nc).update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined);
  await sleep(10);
  nc.publish('HOST_STARTED');
  // The end went out while this connection was away: only the agent's word shows it.
  nc.activeRolloutId = '';
  nc.emit(reconnect);
  await assert.rejects(update, {
    code: 'AGENT_UNREACHABLE',
    message: /its end was lost while NATS reconnected/,
  });
  nc.emit({ type: 'pingTimer', pendingPings: 0, maxPingOut: 2 } as unknown as Status);
  await sleep(10);
  assert.equal(nc.listening, 0, 'the status listener is gone once a status came after the end');
});

test('after a reconnect, an update the agent still runs goes on, and ends with its own end', async () => {
  const nc = new FakeConnection();
  const update = client(nc).update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined);
  await sleep(10);
  nc.emit(reconnect);
  await sleep(50);
  assert.equal(nc.describes, 1, 'the agent was asked once');
  nc.publish('HOST_DONE');
  assert.equal((await update).step, 'HOST_DONE');
});

test('an end that arrives right after the Describe that says the update is over still counts', async () => {
  const nc = new FakeConnection();
  const update = client(nc).update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined);
  await sleep(10);
  nc.activeRolloutId = '';
  nc.emit(reconnect);
  await sleep(20);
  nc.publish('HOST_DONE');
  assert.equal((await update).step, 'HOST_DONE');
});

test('a host id two agents answer to: nothing is sent to it, and an update it was running fails DUPLICATE_HOST_ID', async () => {
  const nc = new FakeConnection();
  const seen = { conflict: '' };
  let died: ((hostId: string, reason: string) => void) | undefined;
  const two: Liveness = {
    onDead: (_h, cb) => {
      died = cb;
      return () => (died = undefined);
    },
    conflict: () => seen.conflict || undefined,
  };
  const agent = client(nc, two);
  const update = agent.update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined);
  await sleep(10);
  nc.publish('HOST_STARTED');
  seen.conflict = 'two agents register as host h1';
  died?.(HOST, seen.conflict);
  await assert.rejects(update, {
    code: 'DUPLICATE_HOST_ID',
    message: 'two agents register as host h1 (found during the update)',
  });
  await assert.rejects(agent.describe(), {
    code: 'DUPLICATE_HOST_ID',
    message: 'two agents register as host h1 (Describe not sent)',
  });
  await assert.rejects(
    agent.update({ rolloutId: 'r2', image: 'app:v2' }, () => undefined),
    {
      code: 'DUPLICATE_HOST_ID',
    },
  );
  assert.equal(nc.describes, 0);
  // Abort goes out all the same: it stops the update on both.
  await assert.rejects(agent.abort('r1'), { message: /unexpected request on .*Abort/ });
});

test('an update is not sent while a restart cannot yet be told from a second agent: AGENT_UNREACHABLE, to be asked again', async () => {
  const nc = new FakeConnection();
  const why = {
    unsettled: 'a new agent process registered as h1 while the one before it was heard 0.4 s ago',
  };
  const settling: Liveness = { onDead: () => () => undefined, unsettled: () => why.unsettled || undefined };
  const agent = client(nc, settling);
  assert.equal(agent.settling(), why.unsettled);
  await assert.rejects(
    agent.update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined),
    {
      code: 'AGENT_UNREACHABLE',
      message: `agent h1: ${why.unsettled} (UpdateHost not sent)`,
    },
  );
  why.unsettled = '';
  const update = agent.update({ rolloutId: 'r1', image: 'app:v2' }, () => undefined);
  await sleep(10);
  nc.publish('HOST_DONE');
  assert.equal((await update).step, 'HOST_DONE');
});
