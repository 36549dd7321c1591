import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@fleetroll/shared';
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
    await writeFile(
      path,
      JSON.stringify({ auths: {}, credsStore: 'desktop', credHelpers: { 'https://127.0.0.1:5000': 'pass' } }),
    );
    assert.deepEqual(await named.forImage(ref), { source: path, helper: 'pass' });
    assert.deepEqual(await named.forImage('registry.example.com/app'), { source: path, helper: 'desktop' });
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
    assert.match(
      refusalHint('no basic auth credentials', ref, {
        source: '/root/.docker/config.json',
        helper: 'ecr-login',
      }),
      /none for it in \/root\/\.docker\/config\.json \(its credential helper docker-credential-ecr-login is not run by the agent\): /,
    );
    assert.equal(defaultAuthFile({ DOCKER_CONFIG: '/etc/docker-cli' }), '/etc/docker-cli/config.json');
  });
});
