import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigError,
  ImagePullError,
  dockerAuthFileSchema,
  loadYamlConfig,
  type DockerAuthEntry,
  type DockerAuthFile,
} from '@fleetroll/shared';
import { askCredentialHelper } from './credential-helper.js';

/** What the Engine API takes as X-Registry-Auth for a pull. */
export interface PullAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

/**
 * The credentials for one pull, and where they were looked for, as an operator would look: the
 * file, or the credential helper it names (none: no file to read).
 */
export type PullCredentials = { auth: PullAuth; source: string } | { auth?: undefined; source?: string };

const DOCKER_HUB = 'docker.io';
const HUB_ALIASES = new Set([DOCKER_HUB, 'index.docker.io', 'registry-1.docker.io']);
// The key `docker login` writes for Docker Hub, and the server address the daemon expects for it.
const HUB_SERVER = 'https://index.docker.io/v1/';

const hub = (host: string) => (HUB_ALIASES.has(host) ? DOCKER_HUB : host);

/** The registry an image reference names, as Docker reads it: its first part when that looks like a host. */
export function registryOf(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? hub(first) : DOCKER_HUB;
}

// `auths` keys come as "127.0.0.1:5000", "https://registry.example.com" or "https://index.docker.io/v1/".
const keyRegistry = (key: string) => hub(key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, ''));

function fromEntry(entry: DockerAuthEntry, key: string, serveraddress: string): PullAuth | undefined {
  if (entry.identitytoken) return { identitytoken: entry.identitytoken, serveraddress };
  if (entry.auth) {
    const plain = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = plain.indexOf(':');
    if (colon <= 0) throw new ConfigError(`auths["${key}"].auth is not base64 of user:password`);
    return { username: plain.slice(0, colon), password: plain.slice(colon + 1), serveraddress };
  }
  if (entry.username !== undefined && entry.password !== undefined) {
    return { username: entry.username, password: entry.password, serveraddress };
  }
  return undefined;
}

/** The address the daemon, and credential helpers, know a registry by. */
const serverAddress = (registry: string) => (registry === DOCKER_HUB ? HUB_SERVER : registry);

/** The credentials a Docker client config holds for a registry, if any. */
export function authFor(file: DockerAuthFile, registry: string): PullAuth | undefined {
  const serveraddress = serverAddress(registry);
  for (const [key, entry] of Object.entries(file.auths)) {
    if (keyRegistry(key) === registry) return fromEntry(entry, key, serveraddress);
  }
  return undefined;
}

/** The credential helper a Docker client config names for a registry (credHelpers, else credsStore). */
function helperFor(file: DockerAuthFile, registry: string): string | undefined {
  const named = Object.entries(file.credHelpers ?? {}).find(([key]) => keyRegistry(key) === registry);
  return named?.[1] ?? file.credsStore;
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/** Where the docker CLI keeps its config for this user. */
export function defaultAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
}

/**
 * Reads the credentials for a pull from a Docker client config, at each pull, so that a new
 * `docker login` on the host needs no restart of the agent: its `auths` entry for the registry,
 * else the credential helper it names for it (credHelpers, then credsStore), as the docker CLI
 * does. A file named in the agent config must be there; the docker CLI's default file is used
 * only when it exists.
 */
export class RegistryCredentials {
  constructor(
    private readonly path: string | undefined,
    private readonly fallback: string = defaultAuthFile(),
  ) {}

  /** Fails, as a ConfigError, when the file is unusable: at the agent's start, not at its first pull. */
  async check(): Promise<void> {
    await this.read();
  }

  async forImage(ref: string): Promise<PullCredentials> {
    const read = await this.read();
    if (read === undefined) return {};
    try {
      const registry = registryOf(ref);
      const auth = authFor(read.file, registry);
      if (auth) return { auth, source: read.source };
      const helper = helperFor(read.file, registry);
      if (helper === undefined) return { source: read.source };
      const source = `docker-credential-${helper} (named in ${read.source})`;
      const fromHelper = await askCredentialHelper(helper, serverAddress(registry));
      return fromHelper ? { auth: fromHelper, source } : { source };
    } catch (err) {
      throw err instanceof ConfigError ? new ConfigError(`${read.source}: ${err.message}`) : err;
    }
  }

  private async read(): Promise<{ file: DockerAuthFile; source: string } | undefined> {
    const source = this.path ?? this.fallback;
    // Only the docker CLI's own file may be absent; a missing named one is the loader's error.
    if (this.path === undefined && !(await exists(source))) return undefined;
    return { file: await loadYamlConfig(source, 'registry credentials', dockerAuthFileSchema), source };
  }
}

const REFUSED = /no basic auth credentials|unauthorized|authentication required/i;

/** A failed pull, with plain words added when the registry refused it: which credentials were (not) there. */
export function explainRefusal(err: unknown, ref: string, creds: PullCredentials): unknown {
  if (!(err instanceof ImagePullError)) return err;
  const hint = refusalHint(err.message, ref, creds);
  return hint ? new ImagePullError(`${err.message}${hint}`, { cause: err }) : err;
}

/** The words explainRefusal adds; empty when `reason` is not a registry's refusal. */
export function refusalHint(reason: string, ref: string, creds: PullCredentials): string {
  if (!REFUSED.test(reason)) return '';
  const registry = registryOf(ref);
  if (creds.auth) return ` (${registry} refused the credentials for it in ${creds.source})`;
  const where = creds.source ? `in ${creds.source}` : `(no ${defaultAuthFile()})`;
  return (
    ` (${registry} wants credentials and there are none for it ${where}: ` +
    `run docker login ${registry} on this host, or set docker.authFile in the agent config)`
  );
}
