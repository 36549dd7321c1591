import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadInventory, parseInventory } from '@fleetroll/shared';

function rejects(yaml: string, message: string): void {
  assert.throws(
    () => parseInventory(yaml, 'inventory.yml'),
    (err: unknown) => err instanceof ConfigError && err.message === message,
    `should fail with: ${message}`,
  );
}

test('parses the DESIGN.md form; groups default to none', () => {
  const inv = parseInventory(
    'hosts:\n  - id: fe-01\n    groups: [eu]\n    grpc: 10.0.0.11:7070\n  - id: fe-02\n',
    'inventory.yml',
  );
  assert.deepEqual(inv.hosts, [
    { id: 'fe-01', groups: ['eu'], grpc: '10.0.0.11:7070' },
    { id: 'fe-02', groups: [] },
  ]);
});

test('accepts a bracketed IPv6 gRPC address', () => {
  const inv = parseInventory('hosts:\n  - id: a\n    grpc: "[::1]:7070"\n', 'inventory.yml');
  assert.equal(inv.hosts[0]?.grpc, '[::1]:7070');
});

test('a duplicate id names both entries', () => {
  rejects(
    'hosts:\n  - id: fe-01\n  - id: fe-02\n  - id: fe-03\n  - id: fe-02\n',
    'inventory.yml: hosts.3.id: duplicates hosts.1.id (fe-02)',
  );
});

test('duplicate gRPC addresses and groups listed twice are rejected', () => {
  rejects(
    'hosts:\n  - id: a\n    grpc: h:1\n  - id: b\n    grpc: h:1\n',
    'inventory.yml: hosts.1.grpc: duplicates hosts.0.grpc (h:1)',
  );
  rejects(
    'hosts:\n  - id: a\n    groups: [eu, eu]\n',
    'inventory.yml: hosts.0.groups.1: duplicates hosts.0.groups.0 (eu)',
  );
});

test('bad fields are named', () => {
  rejects('hosts:\n  - id: "fe 01"\n', 'inventory.yml: hosts.0.id: ' + idRule());
  rejects('hosts:\n  - id: a\n    group: [eu]\n', 'inventory.yml: hosts.0: Unrecognized key: "group"');
  rejects(
    'hosts:\n  - id: a\n    grpc: h:70000\n',
    'inventory.yml: hosts.0.grpc: must be host:port with a port of 1-65535, e.g. 10.0.0.11:7070',
  );
  rejects('hosts: []\n', 'inventory.yml: hosts: an inventory needs at least one host');
  rejects('', 'inventory.yml: is empty (expected a "hosts:" list)');
});

test('a YAML syntax error is one line with its position', () => {
  assert.throws(
    () => parseInventory('hosts:\n  - id: a\n   bad: [\n', 'inventory.yml'),
    (err: unknown) =>
      err instanceof ConfigError &&
      /^inventory\.yml: not valid YAML: .*line \d+, column \d+$/.test(err.message) &&
      !err.message.includes('\n'),
  );
});

test('loadInventory names a file it cannot read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-inv-'));
  try {
    await assert.rejects(loadInventory(join(dir, 'nope.yml')), {
      message: `cannot read inventory ${join(dir, 'nope.yml')}: no such file`,
    });
    await assert.rejects(loadInventory(dir), { message: `cannot read inventory ${dir}: is a directory` });
  } finally {
    await rm(dir, { recursive: true });
  }
});

function idRule(): string {
  return 'must be 1-63 characters of letters, digits, ".", "_" or "-", starting with a letter or digit';
}
