// The kit's free ports must stay free until they are listened on: a port from the kernel's
// ephemeral range can be taken by an outgoing connection meanwhile (a controller's dashboard
// port once failed EADDRINUSE that way, under a load generator's thousands of connections).
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { freeLoopbackPort } from '@fleetroll/local-fleet';

test('freeLoopbackPort: outside the kernel ephemeral range and the kit port blocks', async () => {
  const [lo, hi] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'))
    .trim()
    .split(/\s+/)
    .map(Number);
  assert.ok(lo !== undefined && hi !== undefined);
  const ports = [];
  for (let i = 0; i < 100; i++) ports.push(await freeLoopbackPort());
  const ephemeral = ports.filter((p) => p >= lo && p <= hi);
  assert.deepEqual(ephemeral, [], `ports in the ephemeral range ${lo}-${hi}`);
  assert.deepEqual(
    ports.filter((p) => p < 25_000),
    [],
    'ports in the kit blocks (20000-24999) or below',
  );
});
