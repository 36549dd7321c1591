import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidInputError, formatSerialSpec, parseSerialSpec, serialSpecSchema } from '@fleetroll/shared';
import { z } from 'zod';

function rejects(value: unknown, message: string): void {
  assert.throws(
    () => parseSerialSpec(value, '--serial'),
    (err: unknown) => err instanceof InvalidInputError && err.message === message,
    `${JSON.stringify(value)} should fail with: ${message}`,
  );
}

test('accepts a count, a percentage and both list forms', () => {
  assert.deepEqual(parseSerialSpec('3'), [{ kind: 'count', n: 3 }]);
  assert.deepEqual(parseSerialSpec(3), [{ kind: 'count', n: 3 }]);
  assert.deepEqual(parseSerialSpec('35%'), [{ kind: 'percent', p: 35 }]);
  const list = [
    { kind: 'count', n: 1 },
    { kind: 'percent', p: 10 },
    { kind: 'percent', p: 50 },
  ];
  assert.deepEqual(parseSerialSpec([1, '10%', '50%']), list);
  assert.deepEqual(parseSerialSpec('1,10%,50%'), list);
  assert.deepEqual(parseSerialSpec(' 1, 10% ,50% '), list);
});

test('accepts the edges: 0, 100%, 1% and counts larger than any fleet', () => {
  assert.deepEqual(parseSerialSpec('0'), [{ kind: 'count', n: 0 }]);
  assert.deepEqual(parseSerialSpec('100%'), [{ kind: 'percent', p: 100 }]);
  assert.deepEqual(parseSerialSpec('1%'), [{ kind: 'percent', p: 1 }]);
  assert.deepEqual(parseSerialSpec('100000'), [{ kind: 'count', n: 100000 }]);
});

test('rejects each bad value with one line naming it', () => {
  rejects('-5', '--serial: "-5" is negative');
  rejects(-5, '--serial: -5 is negative');
  rejects('-10%', '--serial: "-10%" is negative');
  rejects('120%', '--serial: "120%" is over 100%');
  rejects('abc', '--serial: "abc" is not a count (3) or a percentage (35%)');
  rejects('10%%', '--serial: "10%%" is not a count (3) or a percentage (35%)');
  rejects('%', '--serial: "%" is not a count (3) or a percentage (35%)');
  rejects('3 %', '--serial: "3 %" is not a count (3) or a percentage (35%)');
  rejects('+3', '--serial: "+3" is not a count (3) or a percentage (35%)');
  rejects('1.5', '--serial: "1.5" is not a whole number');
  rejects('1.0', '--serial: "1.0" is not a whole number');
  rejects('12.5%', '--serial: "12.5%" is not a whole number');
  rejects(1.5, '--serial: 1.5 is not a whole number');
  rejects(Number.POSITIVE_INFINITY, '--serial: Infinity is not a whole number');
  rejects('99999999999999999999', '--serial: "99999999999999999999" is too large');
  rejects('', '--serial: is empty');
  rejects('  ', '--serial: is empty');
  rejects('1,,5', '--serial: "1,,5" has an empty item');
  rejects('1,', '--serial: "1," has an empty item');
  rejects([], '--serial: is an empty list');
  rejects(null, '--serial: null is not a count, a percentage or a list of them');
  rejects(true, '--serial: true is not a count, a percentage or a list of them');
  rejects({ n: 3 }, '--serial: an object is not a count, a percentage or a list of them');
});

test('0% is refused rather than read as Ansible\u2019s "one host at a time"', () => {
  rejects(
    '0%',
    '--serial: "0%" is ambiguous: use 0 for all remaining hosts in one batch, or 1 for one host at a time',
  );
});

test('a list names every bad item, by position when it is a real list', () => {
  rejects(
    [1, '120%', [2]],
    '--serial: 1: "120%" is over 100%; 2: a list is not a count (3) or a percentage (35%)',
  );
  rejects('abc,5,-1', '--serial: "abc" is not a count (3) or a percentage (35%); "-1" is negative');
});

test('embedded in a spec schema, errors carry the field path', () => {
  const spec = z.object({ serial: serialSpecSchema });
  const result = spec.safeParse({ serial: [1, '200%'] });
  assert.equal(result.success, false);
  assert.deepEqual(
    result.error?.issues.map((i) => i.path),
    [['serial', 1]],
  );
});

test('formatSerialSpec writes the CLI form back', () => {
  assert.equal(formatSerialSpec(parseSerialSpec([1, '10%', 0])), '1,10%,0');
});
