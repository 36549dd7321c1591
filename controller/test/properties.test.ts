import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  InvalidInputError,
  formatSerialSpec,
  parseSerialSpec,
  type SerialItem,
  type SerialSpec,
} from '@fleetroll/shared';
import { batchSizes, partitionByGroup, planBatches, planByGroup, selectHosts } from '../src/index.js';
import { Prng, seedFromEnv } from './prng.js';
import { referenceBatches } from './reference.js';

const RUNS = 5_000;
const GROUPS = ['eu', 'us', 'ap', 'canary'];

interface Host {
  readonly id: string;
  readonly groups: readonly string[];
}

function randomFleet(rng: Prng): Host[] {
  // Mostly fleet-sized, sometimes large enough that 1% is more than one host.
  const size = rng.chance(0.05) ? rng.int(200, 1_500) : rng.int(0, 60);
  return Array.from({ length: size }, (_, i) => ({
    id: `h-${i}`,
    groups: GROUPS.filter(() => rng.chance(0.3)),
  }));
}

function randomItem(rng: Prng, fleetSize: number): SerialItem {
  if (rng.chance(0.6))
    return { kind: 'percent', p: rng.chance(0.2) ? rng.pick([1, 99, 100]) : rng.int(1, 100) };
  return { kind: 'count', n: rng.chance(0.1) ? 0 : rng.int(1, fleetSize + 3) };
}

function randomSpec(rng: Prng, fleetSize: number): SerialSpec {
  const first = randomItem(rng, fleetSize);
  return [first, ...Array.from({ length: rng.int(0, 4) }, () => randomItem(rng, fleetSize))];
}

/** Runs `body` RUNS times; a failure reports the seed that replays it (FLEETROLL_SEED). */
function property(name: string, body: (rng: Prng) => void): void {
  test(`property: ${name}`, () => {
    const rng = new Prng(seedFromEnv());
    for (let run = 0; run < RUNS; run++) {
      try {
        body(rng);
      } catch (err) {
        assert.fail(`run ${run} with FLEETROLL_SEED=${rng.seed}: ${(err as Error).message}`);
      }
    }
  });
}

/** The size each batch should have by the spec alone, before the last one is cut short. */
function wanted(item: SerialItem, total: number): number {
  return item.kind === 'count' ? item.n : Math.max(1, Math.floor((item.p * total) / 100));
}

property('the planner matches the reference transcription of Ansible', (rng) => {
  const hosts = randomFleet(rng);
  const spec = randomSpec(rng, hosts.length);
  assert.deepEqual(planBatches(hosts, spec), referenceBatches(hosts, spec), formatSerialSpec(spec));
});

property('every host exactly once, in inventory order, in non-empty batches that follow the spec', (rng) => {
  const hosts = randomFleet(rng);
  const spec = randomSpec(rng, hosts.length);
  const batches = planBatches(hosts, spec);
  const where = `${hosts.length} hosts, serial ${formatSerialSpec(spec)}`;
  assert.deepEqual(batches.flat(), hosts, where);
  assert.ok(
    batches.every((b) => b.length >= 1),
    where,
  );
  assert.deepEqual(
    batches.map((b) => b.length),
    batchSizes(hosts.length, spec),
    where,
  );
  batches.forEach((batch, i) => {
    const item = spec[Math.min(i, spec.length - 1)];
    assert.ok(item, where);
    const size = wanted(item, hosts.length);
    const isLast = i === batches.length - 1;
    if (size === 0) assert.ok(isLast, `${where}: a 0 batch must be the last`);
    else if (isLast) assert.ok(batch.length <= size, `${where}: last batch too big`);
    else assert.equal(batch.length, size, `${where}: batch ${i + 1}`);
  });
});

property('per-group plans: each selected host exactly once, percentages of the group', (rng) => {
  const hosts = randomFleet(rng);
  const present = GROUPS.filter((g) => hosts.some((h) => h.groups.includes(g)));
  const asked = present.filter(() => rng.chance(0.4));
  const spec = randomSpec(rng, hosts.length);
  const plans = planByGroup(hosts, spec, asked);
  const planned = plans.flatMap((p) => p.batches.flat());
  assert.deepEqual(
    [...planned].sort((a, b) => hosts.indexOf(a) - hosts.indexOf(b)),
    selectHosts(hosts, asked),
  );
  const groups = partitionByGroup(hosts, asked);
  plans.forEach((plan, i) => {
    assert.deepEqual(plan.batches, referenceBatches(groups[i]?.hosts ?? [], spec));
  });
});

property('group selection equals a plain filter', (rng) => {
  const hosts = randomFleet(rng);
  const present = new Set(hosts.flatMap((h) => h.groups));
  const asked = GROUPS.filter(() => rng.chance(0.4));
  if (asked.some((g) => !present.has(g))) {
    assert.throws(() => selectHosts(hosts, asked), InvalidInputError);
    return;
  }
  const expected = asked.length === 0 ? hosts : hosts.filter((h) => h.groups.some((g) => asked.includes(g)));
  assert.deepEqual(selectHosts(hosts, asked), expected);
});

property('format then parse gives the spec back, in both list forms', (rng) => {
  const spec = randomSpec(rng, 100);
  assert.deepEqual(parseSerialSpec(formatSerialSpec(spec)), spec);
  const asList = spec.map((item) => (item.kind === 'count' ? item.n : `${item.p}%`));
  assert.deepEqual(parseSerialSpec(asList), spec);
});

/** Independent statement of what --serial accepts. */
function acceptable(text: string): boolean {
  const items = text.split(',').map((s) => s.trim());
  return items.every((item) => {
    if (/^\d+$/.test(item)) return Number.isSafeInteger(Number(item));
    const pct = /^(\d+)%$/.exec(item);
    return pct !== null && Number(pct[1]) >= 1 && Number(pct[1]) <= 100;
  });
}

property('random --serial text is accepted exactly when valid, else one InvalidInputError line', (rng) => {
  const text = Array.from({ length: rng.int(0, 7) }, () => rng.pick([...'0123456789%,-. a1%'])).join('');
  let spec: SerialSpec | undefined;
  try {
    spec = parseSerialSpec(text, '--serial');
  } catch (err) {
    assert.ok(err instanceof InvalidInputError, `${JSON.stringify(text)}: ${String(err)}`);
    assert.match(err.message, /^--serial: [^\n]+$/);
  }
  assert.equal(spec !== undefined, acceptable(text), JSON.stringify(text));
});
