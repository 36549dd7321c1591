import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetroll } from './run-cli.js';

let dir = '';
const file = (name: string): string => join(dir, name);

const TEN = `hosts:\n${Array.from({ length: 10 }, (_, i) => {
  const id = `fe-${String(i + 1).padStart(2, '0')}`;
  return `  - id: ${id}\n    groups: [${i % 2 === 0 ? 'eu' : 'us'}]\n`;
}).join('')}`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetroll-cli-'));
  await writeFile(file('ten.yml'), TEN);
  await writeFile(file('three.yml'), 'hosts:\n  - id: fe-01\n  - id: fe-02\n  - id: fe-03\n');
  await writeFile(file('bad-yaml.yml'), 'hosts:\n  - id: a\n   bad: [\n');
  await writeFile(file('dup.yml'), 'hosts:\n  - id: fe-01\n  - id: fe-02\n  - id: fe-03\n  - id: fe-02\n');
  await writeFile(file('empty.yml'), '');
});

after(async () => {
  await rm(dir, { recursive: true });
});

test('--json prints exactly the DESIGN.md form', async () => {
  const run = await fleetroll('plan', '--inventory', file('three.yml'), '--serial', '2', '--json');
  assert.deepEqual(run, { code: 0, stdout: '{"batches": [["fe-01", "fe-02"], ["fe-03"]]}\n', stderr: '' });
});

test('human output lists each batch', async () => {
  const run = await fleetroll('plan', '--inventory', file('ten.yml'), '--serial', '35%');
  assert.equal(run.code, 0);
  assert.equal(
    run.stdout,
    [
      '10 hosts in 4 batches (serial 35%)',
      'batch 1 (3 hosts): fe-01 fe-02 fe-03',
      'batch 2 (3 hosts): fe-04 fe-05 fe-06',
      'batch 3 (3 hosts): fe-07 fe-08 fe-09',
      'batch 4 (1 host): fe-10',
      '',
    ].join('\n'),
  );
});

test('a comma list and repeated --group', async () => {
  const list = await fleetroll('plan', '--inventory', file('ten.yml'), '--serial', '1,10%,50%', '--json');
  assert.equal(
    list.stdout,
    '{"batches": [["fe-01"], ["fe-02"], ["fe-03", "fe-04", "fe-05", "fe-06", "fe-07"], ["fe-08", "fe-09", "fe-10"]]}\n',
  );
  const eu = await fleetroll(
    'plan',
    '--inventory',
    file('ten.yml'),
    '--serial',
    '50%',
    '--group',
    'eu',
    '--json',
  );
  assert.equal(eu.stdout, '{"batches": [["fe-01", "fe-03"], ["fe-05", "fe-07"], ["fe-09"]]}\n');
  const both = await fleetroll(
    'plan',
    '--inventory',
    file('ten.yml'),
    '--serial=0',
    '--group',
    'eu',
    '--group',
    'us',
  );
  assert.match(both.stdout, /^10 hosts in 1 batch \(serial 0\)\n/);
});

test('--help exits 0', async () => {
  const run = await fleetroll('plan', '--help');
  assert.equal(run.code, 0);
  assert.match(run.stdout, /--inventory <file>/);
});

// "@/" stands for the temp directory, which exists only once the tests run.
const BAD: readonly (readonly [name: string, args: string, stderr: string])[] = [
  [
    'unknown group',
    '--inventory @/ten.yml --serial 2 --group ap',
    'unknown group "ap" (the inventory has eu, us)',
  ],
  ['negative count', '--inventory @/ten.yml --serial -5', '--serial: "-5" is negative'],
  ['negative count with =', '--inventory @/ten.yml --serial=-5', '--serial: "-5" is negative'],
  ['over 100%', '--inventory @/ten.yml --serial 120%', '--serial: "120%" is over 100%'],
  [
    'not numeric',
    '--inventory @/ten.yml --serial abc',
    '--serial: "abc" is not a count (3) or a percentage (35%)',
  ],
  [
    'double percent',
    '--inventory @/ten.yml --serial 10%%',
    '--serial: "10%%" is not a count (3) or a percentage (35%)',
  ],
  ['0%', '--inventory @/ten.yml --serial 0%', '--serial: "0%" is ambiguous: use 0 for all remaining hosts'],
  ['empty list item', '--inventory @/ten.yml --serial 1,,5', '--serial: "1,,5" has an empty item'],
  ['malformed YAML', '--inventory @/bad-yaml.yml --serial 2', '@/bad-yaml.yml: not valid YAML: '],
  [
    'duplicate id',
    '--inventory @/dup.yml --serial 2',
    '@/dup.yml: hosts.3.id: duplicates hosts.1.id (fe-02)',
  ],
  ['empty file', '--inventory @/empty.yml --serial 2', '@/empty.yml: is empty (expected a "hosts:" list)'],
  ['missing file', '--inventory @/nope.yml --serial 2', 'cannot read inventory @/nope.yml: no such file'],
  ['unknown flag', '--inventory @/ten.yml --serial 2 --jsn', "unknown option '--jsn' (Did you mean --json?)"],
  ['missing --serial', '--inventory @/ten.yml', "required option '--serial <spec>' not specified"],
  ['missing --inventory', '--serial 2', "required option '--inventory <file>' not specified"],
  ['--serial without a value', '--inventory @/ten.yml --serial', "option '--serial <spec>' argument missing"],
  ['stray argument', 'extra --inventory @/ten.yml --serial 2', "too many arguments for 'plan'"],
];

const inDir = (text: string): string => text.replaceAll('@/', `${dir}/`);

for (const [name, args, expected] of BAD) {
  test(`bad input exits 2 with one stderr line: ${name}`, async () => {
    const run = await fleetroll('plan', ...inDir(args).split(' '));
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^fleetroll: [^\n]+\n$/);
    assert.ok(run.stderr.startsWith(`fleetroll: ${inDir(expected)}`), run.stderr);
  });
}

test('an unknown command exits 2 with one line', async () => {
  const run = await fleetroll('plna');
  assert.equal(run.code, 2);
  assert.equal(run.stderr, "fleetroll: unknown command 'plna' (Did you mean plan?)\n");
});
