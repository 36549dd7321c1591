import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidInputError } from '@fleetroll/shared';
import { checkName, serverRef } from '../src/haproxy/index.js';

// Each of these would smuggle a second runtime command or change the target if it reached the socket.
const HOSTILE_NAMES = [
  '',
  'app 1',
  'app;disable server app/app_2',
  'app\nshutdown sessions server app/app_2',
  'app\r',
  'app/app_1',
  '#1',
  '-app',
  '.app',
  'a'.repeat(64),
];

describe('checkName', () => {
  it('accepts names HAProxy configs use', () => {
    for (const name of ['app', 'app_1', 'web.1', 'fe-01', 'A9', 'a'.repeat(63)]) {
      assert.equal(checkName('server', name), name);
    }
  });

  it('rejects names that could inject or redirect a command, naming the field', () => {
    for (const name of HOSTILE_NAMES) {
      assert.throws(
        () => checkName('backend', name),
        (err: unknown) => err instanceof InvalidInputError && err.message.startsWith('backend:'),
        JSON.stringify(name),
      );
    }
  });

  it('rejects values that are not strings at all', () => {
    for (const value of [undefined, null, 3, ['app']]) {
      assert.throws(() => checkName('server', value), InvalidInputError);
    }
  });
});

describe('serverRef', () => {
  it('joins the checked names as HAProxy addresses a server', () => {
    assert.equal(serverRef('app', 'app_1'), 'app/app_1');
  });

  it('names the field that is wrong', () => {
    assert.throws(() => serverRef('app', 'x y'), /^InvalidInputError: server:/);
    assert.throws(() => serverRef('x;y', 'app_1'), /^InvalidInputError: backend:/);
  });
});
