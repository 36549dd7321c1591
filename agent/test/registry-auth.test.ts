import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, ImagePullError } from '@fleetroll/shared';
import {
  RegistryCredentials,
  authFor,
  defaultAuthFile,
  refusalHint,
  registryOf,
} from '../src/docker/registry-auth.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('registry credentials for a pull', () => {
  test('the registry of an image reference is read as Docker reads it', () => {
    assert.equal(registryOf('127.0.0.1:5000/app:v2'), '127.0.0.1:5000');
    assert.equal(registryOf('registry.example.com/team/app@sha256:abc'), 'registry.example.com');
    assert.equal(registryOf('localhost/app'), 'localhost');
    assert.equal(registryOf('nginx:1.27'), 'docker.io');
    assert.equal(registryOf('library/nginx'), 'docker.io');
    assert.equal(registryOf('index.docker.io/library/nginx'), 'docker.io');
  });

  test('auths keys match with or without scheme and path; Docker Hub has its own server address', () => {
    const file = {
      auths: {
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'http://127.0.0.1:5000': { username: 'ci', password: 's3cret' },
        'registry.example.com': { identitytoken: 'tok' },
      },
    };
    assert.deepEqual(authFor(file, 'docker.io'), {
      username: 'hubuser',
      password: 'hub:pass',
      serveraddress: 'https://index.docker.io/v1/',
    });
    assert.deepEqual(authFor(file, '127.0.0.1:5000'), {
      username: 'ci',
      password: 's3cret',
      serveraddress: '127.0.0.1:5000',
    });
    assert.deepEqual(authFor(file, 'registry.example.com'), {
      identitytoken: 'tok',
      serveraddress: 'registry.example.com',
    });
    assert.equal(authFor(file, 'other.example.com'), undefined);
    assert.throws(
      () => authFor({ auths: { 'r.example.com': { auth: b64('no-colon') } } }, 'r.example.com'),
      (err: unknown) =>
        err instanceof ConfigError && /auths\["r.example.com"\].auth is not base64/.test(err.message),
    );
  });

  test('the file is read at each pull; a named file must be there, the default one may be missing', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetroll-auth-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'config.json');
    const missing = join(dir, 'missing.json');
    const ref = '127.0.0.1:5000/app:v2';

    assert.deepEqual(await new RegistryCredentials(undefined, missing).forImage(ref), {});
    await assert.rejects(
      new RegistryCredentials(missing).forImage(ref),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.message === `cannot read registry credentials ${missing}: no such file`,
    );

    const named = new RegistryCredentials(path);
    await writeFile(path, JSON.stringify({ auths: {} }));
    assert.deepEqual(await named.forImage(ref), { source: path });
    await writeFile(path, JSON.stringify({ auths: { '127.0.0.1:5000': { auth: b64('ci:s3cret') } } }));
    assert.deepEqual(await named.forImage(ref), {
      auth: { username: 'ci', password: 's3cret', serveraddress: '127.0.0.1:5000' },
      source: path,
    });
    await writeFile(path, JSON.stringify({ auths: { '127.0.0.1:5000': { auth: 'not base64!' } } }));
    await assert.rejects(
      named.forImage(ref),
      (err: unknown) =>
        err instanceof ConfigError && err.message.startsWith(`${path}: auths.127.0.0.1:5000.auth`),
    );
  });

  test('a credential helper named for the registry (credHelpers, else credsStore) is asked as the docker CLI asks it', async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'fleetroll-helpers-'));
    const path = process.env['PATH'];
    t.after(async () => {
      process.env['PATH'] = path;
      await rm(dir, { recursive: true, force: true });
    });
    // Helpers as docker-credential-pass or -ecr-login behave: `get`, the server on stdin, JSON out.
    const helper = async (name: string, script: string) => {
      await writeFile(join(dir, `docker-credential-${name}`), `#!/bin/sh\n${script}\n`);
      await chmod(join(dir, `docker-credential-${name}`), 0o755);
    };
    await helper(
      'frt-store',
      'read server; [ "$1" = get ] || exit 9; case "$server" in 127.0.0.1:5000) ' +
        'echo "{\\"ServerURL\\":\\"$server\\",\\"Username\\":\\"ci\\",\\"Secret\\":\\"s3cret\\"}";; ' +
        '*) echo "credentials not found in native keychain"; exit 1;; esac',
    );
    await helper('frt-token', 'echo \'{"Username":"<token>","Secret":"tok"}\'');
    await helper('frt-broken', 'echo "cannot reach the keyring" >&2; exit 3');
    process.env['PATH'] = `${dir}:${path ?? ''}`;
    const file = join(dir, 'config.json');
    await writeFile(
      file,
      JSON.stringify({
        auths: {},
        credsStore: 'frt-store',
        credHelpers: {
          'token.example.com': 'frt-token',
          'broken.example.com': 'frt-broken',
          'gone.example.com': 'frt-gone',
        },
      }),
    );
    const creds = new RegistryCredentials(file);
    const via = (name: string) => `docker-credential-${name} (named in ${file})`;
    assert.deepEqual(await creds.forImage('127.0.0.1:5000/app:v2'), {
      auth: { username: 'ci', password: 's3cret', serveraddress: '127.0.0.1:5000' },
      source: via('frt-store'),
    });
    assert.deepEqual(await creds.forImage('other.example.com/app'), { source: via('frt-store') });
    assert.deepEqual(await creds.forImage('token.example.com/app'), {
      auth: { identitytoken: 'tok', serveraddress: 'token.example.com' },
      source: via('frt-token'),
    });
    await assert.rejects(
      creds.forImage('broken.example.com/app'),
      (err: unknown) =>
        err instanceof ImagePullError &&
        err.message ===
          'credential helper docker-credential-frt-broken failed for broken.example.com: cannot reach the keyring',
    );
    await assert.rejects(
      creds.forImage('gone.example.com/app'),
      (err: unknown) =>
        err instanceof ImagePullError && /docker-credential-frt-gone is not installed/.test(err.message),
    );
    await writeFile(file, JSON.stringify({ credsStore: '../../bin/sh' }));
    await assert.rejects(
      creds.forImage('x.example.com/app'),
      (err: unknown) =>
        err instanceof ConfigError && /credsStore: must be a credential helper name/.test(err.message),
    );
  });

  test('a refusal by the registry is explained by which credentials were there', () => {
    const ref = '127.0.0.1:5000/app:v2';
    assert.equal(refusalHint('manifest unknown', ref, {}), '');
    assert.match(
      refusalHint('Docker says: no basic auth credentials', ref, { source: '/etc/fleetroll/docker.json' }),
      /127\.0\.0\.1:5000 wants credentials and there are none for it in \/etc\/fleetroll\/docker\.json: run docker login 127\.0\.0\.1:5000 on this host, or set docker\.authFile/,
    );
    assert.match(
      refusalHint('unauthorized: authentication required', ref, {
        auth: { username: 'ci', password: 'x', serveraddress: '127.0.0.1:5000' },
        source: '/root/.docker/config.json',
      }),
      /127\.0\.0\.1:5000 refused the credentials for it in \/root\/\.docker\/config\.json/,
    );
    assert.equal(defaultAuthFile({ DOCKER_CONFIG: '/etc/docker-cli' }), '/etc/docker-cli/config.json');
  });
});
