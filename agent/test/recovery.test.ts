import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Journal, type SlotJournalEntry } from '../src/journal.js';
import { recoverFromJournal } from '../src/recovery.js';
import { fakeHost, type FakeHost } from './fakes.js';

async function withJournal(fn: (journal: Journal, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetroll-journal-'));
  try {
    await fn(new Journal(dir), dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function entry(h: FakeHost, phase: SlotJournalEntry['phase']): SlotJournalEntry {
  const old = h.runtime.byName('c1')!;
  return {
    slot: 'app1',
    rolloutId: 'r1',
    image: 'app:v2',
    phase,
    weight: 37,
    oldId: old.id,
    oldName: 'c1',
    asideName: 'c1-fleetroll-old',
  };
}

test('journal survives a reload and clears', async () => {
  await withJournal(async (journal, dir) => {
    const h = fakeHost();
    await journal.record(entry(h, 'draining'));
    const again = new Journal(dir);
    assert.deepEqual(await again.load(), [entry(h, 'draining')]);
    await again.clear('app1');
    assert.deepEqual(await new Journal(dir).load(), []);
  });
});

test('killed while draining: the weight comes back, containers untouched', async () => {
  await withJournal(async (journal) => {
    const h = fakeHost();
    await journal.record(entry(h, 'draining'));
    h.lb.weights.set('app/app_1', 0);
    const results = await recoverFromJournal(journal, h.config, { ...h.deps, journal });
    assert.deepEqual(
      results.map((r) => r.action),
      ['rolled-back'],
    );
    assert.equal(h.lb.weights.get('app/app_1'), 37);
    assert.equal(h.runtime.byName('c1')?.image, 'app:v1');
    assert.deepEqual(await journal.load(), []);
  });
});

test('killed mid-replace (old aside, new created): rolled back to the old container', async () => {
  await withJournal(async (journal) => {
    const h = fakeHost();
    const e = entry(h, 'replacing');
    await h.runtime.stop(e.oldId);
    await h.runtime.rename(e.oldId, e.asideName);
    // The new container exists but the crash came before its id reached the journal.
    const newId = await h.runtime.createFrom(e.oldId, 'c1', 'app:v2');
    await journal.record(e);
    h.lb.weights.set('app/app_1', 0);
    const results = await recoverFromJournal(journal, h.config, { ...h.deps, journal });
    assert.deepEqual(
      results.map((r) => r.action),
      ['rolled-back'],
    );
    assert.equal(h.runtime.containers.has(newId), false);
    assert.equal(h.runtime.byName('c1')?.id, e.oldId);
    assert.equal(h.runtime.byName('c1')?.running, true);
    assert.equal(h.lb.weights.get('app/app_1'), 37);
  });
});

test('killed after the new container was verified: finished forward', async () => {
  await withJournal(async (journal) => {
    const h = fakeHost();
    const e = entry(h, 'restoring');
    await h.runtime.stop(e.oldId);
    await h.runtime.rename(e.oldId, e.asideName);
    const newId = await h.runtime.createFrom(e.oldId, 'c1', 'app:v2');
    await h.runtime.start(newId);
    await journal.record({ ...e, newId });
    h.lb.weights.set('app/app_1', 0);
    const results = await recoverFromJournal(journal, h.config, { ...h.deps, journal });
    assert.deepEqual(
      results.map((r) => r.action),
      ['finished'],
    );
    assert.equal(h.runtime.byName('c1')?.image, 'app:v2');
    assert.equal(h.runtime.containers.has(e.oldId), false);
    assert.equal(h.lb.weights.get('app/app_1'), 37);
  });
});

test('killed before the weight went to 0: recovery brings the slot back without taking its weight to 0 meanwhile', async () => {
  await withJournal(async (journal) => {
    const h = fakeHost();
    const e = entry(h, 'draining');
    // The crash came between the journal entry and `set weight 0`; the old container was stopped by hand.
    await h.runtime.stop(e.oldId);
    await journal.record(e);
    h.runtime.during.start = () => new Promise((resolve) => setTimeout(resolve, 50));
    await recoverFromJournal(journal, h.config, { ...h.deps, journal });
    assert.deepEqual(
      h.trail.filter((s) => s.startsWith('weight')),
      ['weight app/app_1 37'],
    );
  });
});
