import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import type { msg } from '@fleetroll/shared';
import { serveControllerHttp, type ControllerHttp } from '../src/api/http.js';
import { ControllerMetrics } from '../src/metrics/metrics.js';
import { ControllerCore } from '../src/service/controller-core.js';
import { FakeFleet, capturingLogger, inventory, until } from './rollout-fakes.js';

type Status = msg.RolloutStatus__Output;
type Update = msg.RolloutUpdate__Output;

const hosts = inventory({ eu: ['e1', 'e2', 'e3'], us: ['u1', 'u2', 'u3'] });
let fleet: FakeFleet;
let core: ControllerCore;
let http: ControllerHttp;
let base = '';

before(async () => {
  fleet = new FakeFleet(
    hosts.map((h) => h.id),
    { slotMs: 40 },
  );
  const { log } = capturingLogger();
  core = new ControllerCore({
    log,
    defaultTransport: 'grpc',
    defaults: { hostTimeoutMs: 60_000, maxParallel: 0 },
    hosts: () => Promise.resolve(hosts),
    directory: () => fleet,
    agents: () => Promise.resolve([]),
  });
  const metrics = new ControllerMetrics(() => core.list(), { processMetrics: false });
  core.observe((status, step) => metrics.observe(status, step));
  http = await serveControllerHttp(core, metrics, { listen: '127.0.0.1:0', allowedHosts: [], log });
  base = `http://127.0.0.1:${http.port}`;
});
after(() => http?.close());

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

function assertError(
  r: { status: number; json: unknown },
  status: number,
  code: string,
  message: RegExp,
): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  const { error } = r.json as { error: { code: string; message: string } };
  assert.equal(error.code, code);
  assert.match(error.message, message);
}

/** fetch() may not set Host; a DNS-rebinding page's request carries its own name there. */
function getWithHost(path: string, host: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: http.port, path, headers: { host } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads the event stream to its end: every RolloutUpdate, and whether the `end` event came. */
async function readEvents(id: string): Promise<{ updates: Update[]; ended: boolean; type: string }> {
  const res = await fetch(`${base}/api/rollouts/${id}/events`, { signal: AbortSignal.timeout(20_000) });
  const text = await res.text();
  const updates = text
    .split('\n\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)) as Update);
  return {
    updates,
    ended: text.includes('event: end\ndata: {}'),
    type: res.headers.get('content-type') ?? '',
  };
}

test('GET / serves the dashboard with a strict content security policy; its scripts and styles are served', async () => {
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
  const html = await page.text();
  assert.match(html, /<script type="module" src="\/assets\/web\/app.js">/);
  const app = await fetch(`${base}/assets/web/app.js`);
  assert.equal(app.status, 200);
  assert.match(app.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.match(await app.text(), /EventSource/);
  // The dashboard's scripts import what the CLI shows too from view/, beside web/.
  const format = await fetch(`${base}/assets/web/format.js`);
  assert.match(await format.text(), /from '\.\.\/view\/words\.js'/);
  const view = await fetch(`${base}/assets/view/soak.js`);
  assert.equal(view.status, 200);
  assert.match(await view.text(), /export function soakingBatches/);
  assert.equal((await fetch(`${base}/assets/app.css`)).status, 200);
  assertError(await call('GET', '/assets/web/nope.js'), 404, 'NOT_FOUND', /no dashboard script web\/nope.js/);
});

test('bad requests get JSON errors with the fleetroll code, a plain message and the right status', async () => {
  assertError(await call('GET', '/api/nothing'), 404, 'NOT_FOUND', /nothing at \/api\/nothing/);
  const wrongMethod = await call('DELETE', '/api/rollouts');
  assertError(wrongMethod, 405, 'METHOD_NOT_ALLOWED', /DELETE is not allowed/);
  assert.equal(wrongMethod.headers.get('allow'), 'GET, POST');
  assertError(await call('GET', '/api/rollouts/r-none'), 404, 'UNKNOWN_ROLLOUT', /no rollout r-none/);
  assertError(await call('GET', '/api/rollouts/r-none/events'), 404, 'UNKNOWN_ROLLOUT', /no rollout r-none/);
  assertError(await call('GET', '/api/rollouts/bad%20id'), 400, 'INVALID_INPUT', /rollout id: must be/);
  assertError(
    await call('POST', '/api/rollouts', { image: 'app:v2', serial: 3 }),
    400,
    'INVALID_INPUT',
    /rollout request: serial: /,
  );
  assertError(
    await call('POST', '/api/rollouts', { image: 'app:v2', colour: 'red' }),
    400,
    'INVALID_INPUT',
    /colour/,
  );
  // What the dashboard's form sends for a pause-after field that holds no number.
  assertError(
    await call('POST', '/api/rollouts', { image: 'app:v2', pauseAfter: [null] }),
    400,
    'INVALID_INPUT',
    /rollout request: pauseAfter\.0: /,
  );
  // The shape passes here; the values are checked by ControllerCore as for gRPC.
  assertError(
    await call('POST', '/api/rollouts', { image: 'app:v2', serial: ['120%'] }),
    400,
    'INVALID_INPUT',
    /serial/,
  );
  assertError(await call('POST', '/api/rollouts', '{"image":'), 400, 'INVALID_INPUT', /not JSON/);
  assertError(
    await call('POST', '/api/rollouts', 'image=app:v2', { 'content-type': 'text/plain' }),
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    /application\/json/,
  );
  assertError(
    await call('POST', '/api/rollouts', { image: 'x'.repeat(70_000) }),
    413,
    'PAYLOAD_TOO_LARGE',
    /over 65536 bytes/,
  );
  assertError(await getWithHost('/api/rollouts', 'evil.example:7080'), 403, 'FORBIDDEN_HOST', /evil.example/);
  assert.equal((await getWithHost('/api/rollouts', `localhost:${http.port}`)).status, 200);
  assert.equal(fleet.calls.length, 0, 'no bad request reached an agent');
});

test('start, pause a group, resume, follow the events to the end; list and metrics agree', async () => {
  const started = await call('POST', '/api/rollouts', {
    image: 'registry:5000/app:v2',
    serial: ['1'],
    groupsInParallel: true,
  });
  assert.equal(started.status, 201, JSON.stringify(started.json));
  const id = (started.json as Status).id;
  assertError(
    await call('POST', '/api/rollouts', { image: 'registry:5000/app:v3' }),
    409,
    'ROLLOUT_CONFLICT',
    new RegExp(`rollout ${id} is still running`),
  );
  const events = readEvents(id);

  await until(
    () => core.get(id).hosts.some((h) => h.group === 'eu' && h.state === 'HOST_UPDATING'),
    'eu busy',
  );
  assertError(
    await call('POST', `/api/rollouts/${id}/pause`, { group: 'asia' }),
    400,
    'INVALID_INPUT',
    /unknown group "asia"/,
  );
  assertError(await call('POST', `/api/rollouts/${id}/pause`, { group: 7 }), 400, 'INVALID_INPUT', /group/);
  const paused = await call('POST', `/api/rollouts/${id}/pause`, { group: 'eu' });
  assert.equal(paused.status, 200);
  assert.match((paused.json as Status).groups.find((g) => g.group === 'eu')?.state ?? '', /GROUP_PAUS/);
  await until(
    () => core.get(id).groups.find((g) => g.group === 'us')?.state === 'GROUP_DONE',
    'us done',
    10_000,
  );
  const meanwhile = core.get(id);
  assert.equal(meanwhile.groups.find((g) => g.group === 'eu')?.state, 'GROUP_PAUSED');
  assert.ok(meanwhile.hosts.some((h) => h.group === 'eu' && h.state === 'HOST_PENDING'));

  const resumed = await call('POST', `/api/rollouts/${id}/resume`, { group: 'eu' });
  assert.equal(resumed.status, 200);
  const { updates, ended, type } = await events;
  assert.match(type, /^text\/event-stream/);
  assert.ok(ended, 'the stream says it has ended');
  const last = updates.at(-1)?.status;
  assert.equal(last?.state, 'ROLLOUT_SUCCEEDED', last?.message);
  assert.ok(
    updates.some((u) => u.steps.some((s) => s.step === 'SLOT_DONE')),
    'agent steps come with the updates',
  );
  assert.ok(
    updates.some((u) => u.status?.groups.some((g) => g.state === 'GROUP_PAUSED')),
    'the stream showed the pause',
  );

  // A finished rollout: its stream is one update and the end.
  const again = await readEvents(id);
  assert.equal(again.updates.length, 1);
  assert.ok(again.ended);
  assertError(await call('POST', `/api/rollouts/${id}/abort`, {}), 400, 'INVALID_INPUT', /already finished/);

  const list = await call('GET', '/api/rollouts');
  assert.deepEqual(
    (list.json as { rollouts: Status[] }).rollouts.map((r) => [r.id, r.state]),
    [[id, 'ROLLOUT_SUCCEEDED']],
  );
  const metrics = await fetch(`${base}/metrics`);
  assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await metrics.text();
  assert.match(text, /^fleetroll_rollouts\{state="succeeded"\} 1$/m);
  assert.match(text, /^fleetroll_hosts\{group="eu",state="succeeded"\} 3$/m);
  assert.match(text, /^fleetroll_slots_replaced_total 12$/m);
});

test('abort: the rollout ends ABORTED and the stream ends with it', async () => {
  const started = await call('POST', '/api/rollouts', { image: 'registry:5000/app:v3', serial: ['1'] });
  const id = (started.json as Status).id;
  const events = readEvents(id);
  await until(() => core.get(id).hosts.some((h) => h.state === 'HOST_UPDATING'), 'a host busy');
  assertError(
    await call('POST', `/api/rollouts/${id}/abort`, { group: 'eu' }),
    400,
    'INVALID_INPUT',
    /group/,
  );
  const aborted = await call('POST', `/api/rollouts/${id}/abort`, {});
  assert.equal(aborted.status, 200);
  const { updates, ended } = await events;
  assert.ok(ended);
  assert.equal(updates.at(-1)?.status?.state, 'ROLLOUT_ABORTED');
});
