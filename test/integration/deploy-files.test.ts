import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parse } from 'yaml';
import { findBinary } from '@fleetroll/local-fleet';

/*
 * The HAProxy, NATS and systemd files in deploy/ are checked by the programs that will
 * read them, so that a sample an operator copies is known to load. (The YAML samples are
 * loaded by shared/test/samples.test.ts.)
 */
const deploy = (path: string) => fileURLToPath(new URL(`../../../deploy/${path}`, import.meta.url));

interface Run {
  code: number;
  output: string;
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, args, { env: { ...process.env, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: stdout + stderr });
    });
  });
}

for (const kit of ['samples', 'compose']) {
  test(`haproxy -c accepts deploy/${kit}/haproxy.cfg`, async () => {
    const haproxy = await findBinary('haproxy', 'haproxy');
    const r = await run(haproxy, ['-c', '-f', deploy(`${kit}/haproxy.cfg`)]);
    assert.equal(r.code, 0, r.output);
    // The agent writes the server state file at its first weight change: absent until then.
    const absentState = /\[WARNING\].*Can't open global server state file '([^']+)'.*\n/;
    const stateFile = absentState.exec(r.output)?.[1];
    assert.doesNotMatch(r.output.replace(absentState, ''), /\[WARNING\]|\[ALERT\]/, r.output);
    const agent = parse(await readFile(deploy(`${kit}/agent.yml`), 'utf8')) as {
      haproxy?: { serverStateFile?: string };
    };
    assert.equal(stateFile, agent.haproxy?.serverStateFile, "the agent's serverStateFile is HAProxy's");
  });

  test(`nats-server -t accepts deploy/${kit}/nats.conf`, async () => {
    const nats = await findBinary('nats-server', 'nats-server');
    // The cluster sample takes each node's name from the environment.
    const r = await run(nats, ['-t', '-c', deploy(`${kit}/nats.conf`)], { NATS_SERVER_NAME: 'nats-1' });
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /is valid/);
  });
}

test('systemd-analyze verify finds nothing wrong in the units', async (t) => {
  const bin = '/usr/bin/systemd-analyze';
  if (
    !(await access(bin).then(
      () => true,
      () => false,
    ))
  )
    return t.skip('systemd-analyze is not installed');
  const units = ['fleetroll-agent.service', 'fleetroll-controller.service'].map((u) =>
    deploy(`systemd/${u}`),
  );
  const r = await run(bin, ['verify', ...units], { SYSTEMD_LOG_LEVEL: 'warning' });
  assert.equal(r.code, 0, r.output);
  // verify exits 0 on a misspelt key or a bad value, and only says so: read what it says about our files.
  const ours = r.output.split('\n').filter((line) => line.includes('fleetroll-'));
  assert.deepEqual(ours, []);
});
