import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepEvent, StepName, msg } from '@fleetroll/shared';
import { SlotBook } from '../web/slots.js';
import { harness, inventory } from './rollout-fakes.js';
import { stepEvent } from './status-fixtures.js';

function host(edit: Partial<msg.HostStatus__Output>): msg.HostStatus__Output {
  const [first] = harness({}, inventory({ eu: ['h1'] })).rollout.status().hosts;
  assert.ok(first);
  return { ...first, ...edit };
}

function step(slot: string, name: StepName): StepEvent {
  return stepEvent(name, { slot });
}

const phases = (book: SlotBook, h: msg.HostStatus__Output): string[] =>
  book.slots(h).map((s) => `${s.name || '?'}:${s.phase}`);

test('the dashboard colours each slot by the last step its agent reported', () => {
  const book = new SlotBook();
  book.record(step('a', 'SLOT_DONE'));
  book.record(step('b', 'WEIGHT_ZERO'));
  const updating = host({ state: 'HOST_UPDATING', slotsDone: 1, slotsTotal: 3, slot: 'b' });
  assert.deepEqual(phases(book, updating), ['a:done', 'b:draining', '?:pending']);
  book.record(step('b', 'NEW_STARTED'));
  assert.deepEqual(phases(book, updating), ['a:done', 'b:checking', '?:pending']);
  book.record(step('b', 'SLOT_FAILED'));
  assert.deepEqual(phases(book, { ...updating, state: 'HOST_FAILED' }), ['a:done', 'b:failed', '?:pending']);
});

test('a page opened mid-rollout fills the slots it saw no event of from the host counters', () => {
  const book = new SlotBook();
  book.record(step('c', 'OLD_STOPPED'));
  const updating = host({ state: 'HOST_UPDATING', slotsDone: 2, slotsTotal: 4, slot: 'c' });
  assert.deepEqual(phases(book, updating), ['?:done', '?:done', 'c:replacing', '?:pending']);
  const done = host({ state: 'HOST_SUCCEEDED', slotsDone: 4, slotsTotal: 4 });
  assert.deepEqual(phases(new SlotBook(), done), ['?:done', '?:done', '?:done', '?:done']);
  assert.deepEqual(phases(new SlotBook(), host({ slotsTotal: 0 })), [], 'not described yet: no slots');
});

test('host-level steps do not make slots', () => {
  const book = new SlotBook();
  book.record(step('', 'HOST_STARTED'));
  book.record(step('', 'HOST_DONE'));
  assert.deepEqual(phases(book, host({ state: 'HOST_UPDATING', slotsTotal: 1 })), ['?:pending']);
});

test('a replaced slot keeps its weight-0 window', () => {
  const book = new SlotBook();
  book.record(stepEvent('DRAINED', { slot: 'a' }));
  book.record(stepEvent('WEIGHT_RESTORED', { slot: 'a', durationMs: 1_234 }));
  book.record(stepEvent('DRAINED', { slot: 'b' }));
  const [a, b] = book.slots(host({ state: 'HOST_UPDATING', slotsDone: 1, slotsTotal: 2, slot: 'b' }));
  assert.deepEqual(a, { name: 'a', phase: 'done', windowMs: 1_234 });
  assert.deepEqual(b, { name: 'b', phase: 'replacing' });
});
