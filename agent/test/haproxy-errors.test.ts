import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HaproxyPermissionError,
  HaproxySocketMissingError,
  HaproxyUnexpectedReplyError,
} from '@fleetroll/shared';
import { mapSocketError } from '../src/haproxy/index.js';

function errnoError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code} /run/h1.sock`), { code, syscall: 'connect' });
}

describe('mapSocketError', () => {
  for (const code of ['ENOENT', 'ECONNREFUSED']) {
    it(`maps ${code} to HaproxySocketMissingError naming the path and the likely causes`, () => {
      const err = mapSocketError(errnoError(code), '/run/h1.sock');
      assert.ok(err instanceof HaproxySocketMissingError);
      assert.equal(err.code, 'HAPROXY_SOCKET_MISSING');
      assert.match(err.message, /\/run\/h1\.sock/);
      assert.match(err.message, /HAProxy may not be running/);
      assert.match(err.message, /stats socket/);
      assert.equal((err.cause as NodeJS.ErrnoException).code, code);
    });
  }

  // The tests run as root, which a real socket never refuses: only a synthetic errno reaches this.
  for (const code of ['EACCES', 'EPERM']) {
    it(`maps ${code} to HaproxyPermissionError naming the user that needs access`, () => {
      const err = mapSocketError(errnoError(code), '/run/h1.sock', 'user fleetroll (uid 998)');
      assert.ok(err instanceof HaproxyPermissionError);
      assert.equal(err.code, 'HAPROXY_PERMISSION_DENIED');
      assert.match(err.message, /\/run\/h1\.sock/);
      assert.match(err.message, /user fleetroll \(uid 998\)/);
    });
  }

  it('names the current user by default', () => {
    const err = mapSocketError(errnoError('EACCES'), '/run/h1.sock');
    assert.match(err.message, /uid \d+/);
  });

  it('maps any other failure to HaproxyUnexpectedReplyError with the code', () => {
    const err = mapSocketError(errnoError('ECONNRESET'), '/run/h1.sock');
    assert.ok(err instanceof HaproxyUnexpectedReplyError);
    assert.match(err.message, /ECONNRESET/);
  });
});
