import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { agentConfigSchema, controllerConfigSchema, inventorySchema } from '../src/index.js';
import { configReference, referenceRows } from '../src/config/reference.js';

const DOC = new URL('../../../docs/configuration.md', import.meta.url);

test('docs/configuration.md is what the schemas generate', async () => {
  const committed = await readFile(DOC, 'utf8');
  const fresh = configReference();
  if (committed === fresh) return;
  // The whole file in an assertion diff is noise; the first line that differs says what changed.
  const [a, b] = [committed.split('\n'), fresh.split('\n')];
  const i = a.findIndex((line, n) => line !== b[n]);
  const at = i === -1 ? a.length : i;
  assert.fail(
    `docs/configuration.md is stale (line ${at + 1}: ${JSON.stringify(a[at] ?? '')} should be ` +
      `${JSON.stringify(b[at] ?? '')}); regenerate it with: npm run docs:config`,
  );
});

test('every configuration field says what it is for', () => {
  for (const [file, schema] of [
    ['agent', agentConfigSchema],
    ['controller', controllerConfigSchema],
    ['inventory', inventorySchema],
  ] as const) {
    const bare = referenceRows(schema)
      .filter((r) => r.description.trim() === '')
      .map((r) => r.key);
    assert.deepEqual(bare, [], `${file}: add .describe() to ${bare.join(', ')}`);
  }
});

test('rows carry the type, the default or "required", and nested keys', () => {
  const rows = new Map(referenceRows(agentConfigSchema).map((r) => [r.key, r]));
  assert.deepEqual(
    { ...rows.get('defaults.drainTimeoutMs'), description: '' },
    { key: 'defaults.drainTimeoutMs', type: 'integer 0–3600000', default: '`30000`', description: '' },
  );
  assert.equal(rows.get('hostId')?.default, 'required');
  assert.equal(rows.get('slots[].server')?.type, '[name](#names)');
  assert.equal(rows.get('nats')?.default, 'optional');
});
