import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HaproxyStateFileError, HaproxyUnknownServerError } from '@fleetroll/shared';
import { checkStateFileWritable, stateWithWeight, writeStateFile } from '../src/haproxy/server-state.js';
import { STATE_DUMP } from './fakes.js';

const uweight = (text: string, backend: string, server: string): string | undefined =>
  text
    .split('\n')
    .map((line) => line.split(' '))
    .find((f) => f[1] === backend && f[3] === server)?.[7];

describe('stateWithWeight', () => {
  it("sets the one server's user weight, nothing else, and ends with one newline", () => {
    const text = stateWithWeight(STATE_DUMP, { backend: 'app', server: 'app_2', weight: 100 });
    assert.equal(uweight(text, 'app', 'app_2'), '100');
    assert.equal(uweight(text, 'api', 'app_2'), '50', 'a server of the same name in another backend');
    assert.equal(uweight(text, 'app', 'app_1'), '100');
    assert.equal(
      text,
      STATE_DUMP.replace(
        '3 app 2 app_2 127.0.0.1 2 0 0 100',
        '3 app 2 app_2 127.0.0.1 2 0 100 100',
      ).trimEnd() + '\n',
    );
  });

  it('refuses another format, a header without the weight, and a server HAProxy does not have', () => {
    const change = { backend: 'app', server: 'app_1', weight: 0 };
    assert.throws(() => stateWithWeight(STATE_DUMP.replace(/^1/, '2'), change), HaproxyStateFileError);
    assert.throws(() => stateWithWeight('Unknown command\n', change), HaproxyStateFileError);
    assert.throws(
      () =>
        stateWithWeight(STATE_DUMP.replace('srv_uweight', 'weight'), {
          backend: 'app',
          server: 'app_1',
          weight: 0,
        }),
      /no column srv_uweight/,
    );
    assert.throws(
      () => stateWithWeight(STATE_DUMP, { backend: 'app', server: 'app_9', weight: 0 }),
      HaproxyUnknownServerError,
    );
  });
});

describe('the state file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetroll-state-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is replaced whole, leaving no temporary file', async () => {
    const file = join(dir, 'servers.state');
    await writeStateFile(file, 'one\n');
    await writeStateFile(file, 'two\n');
    assert.equal(await readFile(file, 'utf8'), 'two\n');
    assert.deepEqual(await readdir(dir), ['servers.state']);
  });

  it('says where it could not be written, and a check finds that out without writing it', async () => {
    const file = join(dir, 'absent', 'servers.state');
    await assert.rejects(
      writeStateFile(file, 'x\n'),
      (err: unknown) => err instanceof HaproxyStateFileError && err.message.includes(file),
    );
    await assert.rejects(checkStateFileWritable(file), HaproxyStateFileError);
    const writable = join(dir, 'checked.state');
    await checkStateFileWritable(writable);
    assert.deepEqual(await readdir(dir), ['servers.state'], 'the check left nothing behind');
  });
});
