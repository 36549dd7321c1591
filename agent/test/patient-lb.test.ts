import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HaproxySocketMissingError,
  HaproxyUnexpectedReplyError,
  HaproxyUnknownServerError,
} from '@fleetroll/shared';
import { PatientLoadBalancer, absenceNote } from '../src/patient-lb.js';
import { fakeHost } from './fakes.js';

const missing = () =>
  new HaproxySocketMissingError('cannot connect to the HAProxy runtime socket (ECONNREFUSED)');

/** app_1's stat fails `times` times with `error`, then answers. */
function failing(times: number, error: () => Error) {
  const { lb } = fakeHost();
  let calls = 0;
  const serverStat = lb.serverStat.bind(lb);
  lb.serverStat = (backend: string, server: string) =>
    ++calls <= times ? Promise.reject(error()) : serverStat(backend, server);
  return { lb, calls: () => calls };
}

test('a socket away for a moment (HAProxy restarting) is asked again until it answers, and the gap is kept', async () => {
  const { lb, calls } = failing(3, missing);
  const patient = new PatientLoadBalancer(lb, 5_000);
  assert.equal((await patient.serverStat('app', 'app_1')).weight, 37);
  assert.equal(calls(), 4);
  const [away, ...more] = patient.takeAbsences();
  assert.ok(away !== undefined && away >= 250, `away ${away} ms`);
  assert.deepEqual(more, []);
  assert.deepEqual(patient.takeAbsences(), [], 'each absence is told once');
});

test('a connection HAProxy reset as it stopped counts as away too', async () => {
  const reset = () =>
    new HaproxyUnexpectedReplyError('the connection failed (ECONNRESET)', {
      cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
    });
  const { lb } = failing(1, reset);
  assert.equal((await new PatientLoadBalancer(lb, 5_000).serverStat('app', 'app_1')).server, 'app_1');
});

test('any other error fails at once, and a socket away for longer than the patience fails with its own error', async () => {
  const unknown = failing(1, () => new HaproxyUnknownServerError('no server app_9'));
  await assert.rejects(
    new PatientLoadBalancer(unknown.lb, 5_000).serverStat('app', 'app_1'),
    HaproxyUnknownServerError,
  );
  assert.equal(unknown.calls(), 1);
  const gone = failing(Number.POSITIVE_INFINITY, missing);
  await assert.rejects(
    new PatientLoadBalancer(gone.lb, 300).serverStat('app', 'app_1'),
    HaproxySocketMissingError,
  );
  assert.ok(gone.calls() >= 2 && gone.calls() <= 5, `asked ${gone.calls()} times in 300 ms`);
});

test('giving up, it says what it saw last: the socket missing, not the reset as HAProxy stopped', async () => {
  const { lb } = fakeHost();
  let calls = 0;
  lb.serverStat = () =>
    Promise.reject(
      ++calls === 1
        ? new HaproxyUnexpectedReplyError('the connection failed (ECONNRESET)', {
            cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
          })
        : missing(),
    );
  await assert.rejects(
    new PatientLoadBalancer(lb, 300).serverStat('app', 'app_1'),
    HaproxySocketMissingError,
  );
});

test('the note says how long the socket was away, each time', () => {
  assert.equal(absenceNote([]), '');
  assert.equal(
    absenceNote([1_130]),
    "HAProxy's runtime socket did not answer for 1.1 s (restarted?): waited for it",
  );
  assert.equal(
    absenceNote([1_130, 400]),
    "HAProxy's runtime socket did not answer 2 times (1.1 s, 0.4 s) (restarted?): waited for it",
  );
});
