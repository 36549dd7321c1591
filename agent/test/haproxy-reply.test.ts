import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  HaproxyPermissionError,
  HaproxyUnexpectedReplyError,
  HaproxyUnknownServerError,
} from '@fleetroll/shared';
import { checkReply, expectEmptyReply, parseWeightReply } from '../src/haproxy/index.js';

// Replies below are byte for byte what HAProxy 2.6.12 sent on its admin socket.
const ctx = { command: 'get weight app/app_1', socketPath: '/run/h1.sock', backend: 'app', server: 'app_1' };

describe('parseWeightReply', () => {
  it('reads the current weight, not the initial one', () => {
    assert.equal(parseWeightReply('100 (initial 100)\n\n', ctx), 100);
    assert.equal(parseWeightReply('37 (initial 100)\n\n', ctx), 37);
    assert.equal(parseWeightReply('0 (initial 100)\n\n', ctx), 0);
  });

  it('rejects anything else, quoting the reply briefly', () => {
    for (const reply of ['', '\n', 'abc (initial 100)\n', '37\n', '37 (initial 100) extra\n']) {
      assert.throws(() => parseWeightReply(reply, ctx), HaproxyUnexpectedReplyError, JSON.stringify(reply));
    }
    const long = `Unknown command, but maybe one of the following ones is a better match:\n${'x'.repeat(5000)}`;
    assert.throws(
      () => parseWeightReply(long, ctx),
      (err: unknown) =>
        err instanceof HaproxyUnexpectedReplyError &&
        err.message.includes('Unknown command') &&
        err.message.includes('get weight app/app_1') &&
        err.message.length < 400,
    );
  });

  it('maps "No such server." and "No such backend." to HaproxyUnknownServerError naming them', () => {
    assert.throws(
      () => parseWeightReply('No such server.\n\n', ctx),
      (err: unknown) =>
        err instanceof HaproxyUnknownServerError &&
        err.code === 'HAPROXY_UNKNOWN_SERVER' &&
        err.message.includes('"app_1"') &&
        err.message.includes('"app"'),
    );
    assert.throws(
      () => parseWeightReply('No such backend.\n\n', ctx),
      (err: unknown) => err instanceof HaproxyUnknownServerError && /backend "app"/.test(err.message),
    );
  });
});

describe('expectEmptyReply', () => {
  const set = { ...ctx, command: 'set weight app/app_1 0' };

  it('accepts the empty reply of a successful set weight', () => {
    assert.doesNotThrow(() => expectEmptyReply('\n', set));
    assert.doesNotThrow(() => expectEmptyReply('', set));
  });

  it('rejects an error text such as an out-of-range weight', () => {
    assert.throws(
      () => expectEmptyReply('Absolute weight can only be between 0 and 256 inclusive.\n\n', set),
      (err: unknown) => err instanceof HaproxyUnexpectedReplyError && /between 0 and 256/.test(err.message),
    );
  });

  it('maps "Permission denied" (a socket below level admin) to HaproxyPermissionError', () => {
    assert.throws(
      () => expectEmptyReply('Permission denied\n\n', set),
      (err: unknown) => err instanceof HaproxyPermissionError && /level admin/.test(err.message),
    );
  });
});

describe('checkReply', () => {
  it('returns the text without the closing empty line', () => {
    assert.equal(checkReply('a\nb\n\n', ctx), 'a\nb');
  });
});
