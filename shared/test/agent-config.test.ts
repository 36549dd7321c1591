import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stringify } from 'yaml';
import { parseAgentConfig } from '../src/index.js';

const valid = {
  hostId: 'fe-01',
  grpc: { listen: '127.0.0.1:7070' },
  haproxy: { socket: '/run/haproxy.sock' },
  stateDir: '/var/lib/fleetroll',
  slots: [
    { id: 'app1', container: 'app1', backend: 'app', server: 'app_1' },
    { id: 'app2', container: 'app2', backend: 'app', server: 'app_2' },
  ],
};

const parse = (cfg: unknown) => parseAgentConfig(stringify(cfg), 'agent.yml');

test('a valid config gets its defaults filled in', () => {
  const cfg = parse(valid);
  assert.equal(cfg.defaults.drainTimeoutMs, 30_000);
  assert.equal(cfg.defaults.slotParallelism, 1);
  assert.equal(cfg.haproxy.timeoutMs, 2_000);
  assert.equal(cfg.docker.socket, '/var/run/docker.sock');
  assert.equal(cfg.docker.pullStallTimeoutMs, 60_000);
  assert.deepEqual(cfg.groups, []);
  // A docker section that names only the socket still gets the pull's stall timeout.
  assert.deepEqual(parse({ ...valid, docker: { socket: '/run/docker.sock' } }).docker, {
    socket: '/run/docker.sock',
    pullStallTimeoutMs: 60_000,
  });
});

test('each mistake is named by its field, in one line', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...valid, haproxy: undefined }, /^agent\.yml: haproxy: /],
    [{ ...valid, slots: [] }, /slots: a host needs at least one slot/],
    [{ ...valid, slots: [{ ...valid.slots[0], server: undefined }] }, /slots\.0\.server: /],
    [
      { ...valid, slots: [{ ...valid.slots[0], backend: 'app; set weight app/app_2 0' }] },
      /slots\.0\.backend: must be/,
    ],
    [{ ...valid, grpc: { listen: '7070' } }, /grpc\.listen: must be host:port/],
    [{ ...valid, defaults: { drainTimeoutMs: -1 } }, /defaults\.drainTimeoutMs/],
    [{ ...valid, docker: { pullStallTimeoutMs: 500 } }, /docker\.pullStallTimeoutMs: .*1000/],
    [{ ...valid, colour: 'blue' }, /Unrecognized key.*colour/],
    [
      { ...valid, slots: [valid.slots[0], { ...valid.slots[1], server: 'app_1' }] },
      /slots\.1\.server: duplicates slots\.0\.server/,
    ],
  ];
  for (const [cfg, message] of cases) {
    assert.throws(
      () => parse(cfg),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'CONFIG_INVALID');
        assert.match(err.message, message);
        assert.equal(err.message.split('\n').length, 1, err.message);
        return true;
      },
    );
  }
});

test('YAML that does not parse says so', () => {
  assert.throws(() => parseAgentConfig('hostId: [', 'agent.yml'), /agent\.yml: not valid YAML/);
});
