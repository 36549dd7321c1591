import { test } from 'node:test';
import assert from 'node:assert/strict';
import { imageRefSchema, nameSchema } from '../src/index.js';

test('image references that Docker accepts pass', () => {
  for (const ref of [
    'app',
    'app:v2',
    'fleetroll-app:v1',
    '127.0.0.1:5000/fleetroll-app:v2',
    'registry.example.com/team/app:1.2.3-rc.1',
    'localhost/app_x__y:latest',
    `app@sha256:${'a'.repeat(64)}`,
    `127.0.0.1:5000/app:v2@sha256:${'0'.repeat(64)}`,
    // An image id: what a rollback asks for when the old build's name now names the new one.
    `sha256:${'b'.repeat(64)}`,
  ]) {
    assert.equal(imageRefSchema.safeParse(ref).success, true, ref);
  }
});

test('malformed image references are rejected', () => {
  for (const ref of [
    '',
    'App',
    'app:',
    'app:v 2',
    'app;rm -rf',
    'app\nx',
    '-app',
    'app:-x',
    'app@sha256:abc',
    ':v1',
    'a//b',
  ]) {
    assert.equal(imageRefSchema.safeParse(ref).success, false, JSON.stringify(ref));
  }
});

test('names that could inject a second HAProxy command or a path are rejected', () => {
  for (const name of [
    'app 1',
    'app;set',
    'app\nset weight',
    'a/b',
    '../x',
    '',
    '-x',
    '.x',
    'x'.repeat(64),
    'ä',
  ]) {
    assert.equal(nameSchema.safeParse(name).success, false, JSON.stringify(name));
  }
  for (const name of ['app_1', 'fe-01', 'web.eu', 'A9', 'x'.repeat(63)]) {
    assert.equal(nameSchema.safeParse(name).success, true, name);
  }
});
