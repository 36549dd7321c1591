import type { Readable } from 'node:stream';
import Docker from 'dockerode';
import {
  ContainerNotFoundError,
  ContainerStartError,
  ImagePullError,
  DockerOperationError,
  InvalidInputError,
  CONTAINER_NAME_PATTERN,
  DEFAULT_PULL_STALL_TIMEOUT_MS,
  imageRefSchema,
} from '@fleetroll/shared';
import type { ContainerRuntime, ContainerSnapshot, HealthState } from '../ports.js';
import { cloneForImage } from './clone.js';
import { type Failure, statusOf, toFleetrollError } from './errors.js';
import {
  type ContainerInspect,
  type ImageInspect,
  readContainerInspect,
  readImageInspect,
} from './inspect.js';
import { followPull } from './pull.js';
import { RegistryCredentials, explainRefusal, type PullCredentials } from './registry-auth.js';

export interface DockerRuntimeOptions {
  /** The daemon's Unix socket, e.g. /var/run/docker.sock. */
  socketPath: string;
  /** A pull with no progress for this long is ended (the agent config's docker.pullStallTimeoutMs). */
  pullStallTimeoutMs?: number;
  /** The agent config's docker.authFile: a Docker client config with registry credentials. */
  authFile?: string;
}

const CONTAINER_ID = /^[a-f0-9]{64}$/;

/** ContainerRuntime over the Docker Engine API (1.41 and later), through dockerode. */
export class DockerRuntime implements ContainerRuntime {
  readonly socketPath: string;
  private readonly docker: Docker;
  private readonly pullStallTimeoutMs: number;
  private readonly credentials: RegistryCredentials;

  constructor({
    socketPath,
    pullStallTimeoutMs = DEFAULT_PULL_STALL_TIMEOUT_MS,
    authFile,
  }: DockerRuntimeOptions) {
    this.socketPath = socketPath;
    this.docker = new Docker({ socketPath });
    this.pullStallTimeoutMs = pullStallTimeoutMs;
    this.credentials = new RegistryCredentials(authFile);
  }

  /** Reads the registry credentials file once, so that a bad one stops the agent as it starts. */
  checkCredentials(): Promise<void> {
    return this.credentials.check();
  }

  async inspect(nameOrId: string): Promise<ContainerSnapshot> {
    return toSnapshot(await this.inspectContainer(nameOrId, `inspect container ${shown(nameOrId)}`));
  }

  async find(nameOrId: string): Promise<ContainerSnapshot | null> {
    try {
      return await this.inspect(nameOrId);
    } catch (err) {
      if (err instanceof ContainerNotFoundError) return null;
      throw err;
    }
  }

  async imageId(ref: string): Promise<string | null> {
    checkImageRef(ref);
    return (await this.inspectImage(ref))?.Id ?? null;
  }

  async ensureImage(ref: string, stop?: AbortSignal): Promise<{ pulled: boolean; buildIds: string[] }> {
    checkImageRef(ref);
    const present = await this.inspectImage(ref);
    if (present) return { pulled: false, buildIds: buildIdsOf(present) };
    const failure: Failure = { action: `pull image ${ref}`, as: ImagePullError };
    const creds = await this.credentialsFor(ref);
    const opts = creds.auth ? { authconfig: creds.auth } : {};
    // dockerode answers a pull with the HTTP response, a Readable; its types say only ReadableStream.
    const pull = (signal: AbortSignal) =>
      this.docker.pull(ref, { ...opts, abortSignal: signal }) as Promise<Readable>;
    const end = await this.call(failure, () => followPull(pull, this.pullStallTimeoutMs, stop)).catch(
      (err: unknown) => {
        throw explainRefusal(err, ref, creds);
      },
    );
    if (!end.ok)
      throw explainRefusal(new ImagePullError(`cannot pull image ${ref}: ${end.reason}`), ref, creds);
    // The caller is about to create a container from this tag; a pull that left it absent did not do its job.
    const pulled = await this.inspectImage(ref);
    if (!pulled) throw new ImagePullError(`pulled image ${ref}, but Docker does not list it afterwards`);
    return { pulled: true, buildIds: buildIdsOf(pulled) };
  }

  private async credentialsFor(ref: string): Promise<PullCredentials> {
    try {
      return await this.credentials.forImage(ref);
    } catch (err) {
      throw new ImagePullError(`cannot pull image ${ref}: ${(err as Error).message}`, { cause: err });
    }
  }

  async stop(id: string, timeoutS: number): Promise<void> {
    checkContainerRef(id);
    if (!Number.isFinite(timeoutS) || timeoutS < 0) {
      throw new InvalidInputError(`stop timeout must be zero or more seconds, got ${timeoutS}`);
    }
    const failure = { action: `stop container ${shown(id)}`, container: shown(id), as: DockerOperationError };
    // Docker counts the timeout in whole seconds; rounding up never cuts a graceful stop short.
    await this.callAllowing([304], failure, () =>
      this.docker.getContainer(id).stop({ t: Math.ceil(timeoutS) }),
    );
  }

  async rename(id: string, newName: string): Promise<void> {
    checkContainerRef(id);
    checkName(newName);
    const failure = {
      action: `rename container ${shown(id)} to ${newName}`,
      container: shown(id),
      as: DockerOperationError,
    };
    await this.call(failure, () => this.docker.getContainer(id).rename({ name: newName }));
  }

  async createFrom(templateId: string, name: string, image: string): Promise<string> {
    checkContainerRef(templateId);
    checkName(name);
    checkImageRef(image);
    const action = `create container ${name} from ${shown(templateId)} with image ${image}`;
    const template = await this.inspectContainer(templateId, action);
    const oldImage = await this.inspectImage(template.Image);
    if (!oldImage) {
      throw new ContainerStartError(
        `cannot ${action}: the image of ${shown(templateId)} (${template.Image}) is gone from this host, ` +
          `so its defaults cannot be told apart from the container's own settings`,
      );
    }
    if ((await this.imageId(image)) === null) {
      throw new ContainerStartError(`cannot ${action}: image ${image} is not on this host; pull it first`);
    }
    const spec = cloneForImage(template, oldImage, image);
    const created = await this.call({ action, as: ContainerStartError }, () =>
      this.docker.createContainer({ ...spec.create, name }),
    );
    try {
      for (const { network, endpoint } of spec.laterNetworks) {
        const failure = {
          action: `connect container ${name} to network ${network}`,
          as: ContainerStartError,
        };
        await this.call(failure, () =>
          this.docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint }),
        );
      }
    } catch (err) {
      // A half-made replacement would hold the name; the connect error is the one worth reporting.
      await this.remove(created.id).catch(() => undefined);
      throw err;
    }
    return created.id;
  }

  async start(id: string): Promise<void> {
    checkContainerRef(id);
    const failure = { action: `start container ${shown(id)}`, container: shown(id), as: ContainerStartError };
    await this.callAllowing([304], failure, () => this.docker.getContainer(id).start());
  }

  async remove(id: string): Promise<void> {
    checkContainerRef(id);
    // Volumes stay (v: false): they hold data the previous or the next container may still need.
    const failure = { action: `remove container ${shown(id)}`, as: DockerOperationError };
    await this.callAllowing([404], failure, () =>
      this.docker.getContainer(id).remove({ force: true, v: false }),
    );
  }

  private async inspectContainer(nameOrId: string, action: string): Promise<ContainerInspect> {
    checkContainerRef(nameOrId);
    const raw: unknown = await this.call(
      { action, container: shown(nameOrId), as: DockerOperationError },
      () => this.docker.getContainer(nameOrId).inspect(),
    );
    return readContainerInspect(raw, `container ${shown(nameOrId)}`);
  }

  /** null when the image is not on this host. */
  private async inspectImage(ref: string): Promise<ImageInspect | null> {
    const failure = { action: `inspect image ${ref}`, as: DockerOperationError };
    try {
      const raw: unknown = await this.docker.getImage(ref).inspect();
      return readImageInspect(raw, `image ${ref}`);
    } catch (err) {
      if (statusOf(err) === 404) return null;
      throw toFleetrollError(err, this.socketPath, failure);
    }
  }

  private async call<T>(failure: Failure, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw toFleetrollError(err, this.socketPath, failure);
    }
  }

  /** For calls whose "error" statuses mean the goal already holds (304 already stopped, 404 already gone). */
  private async callAllowing(
    statuses: number[],
    failure: Failure,
    op: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await op();
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && statuses.includes(status)) return;
      throw toFleetrollError(err, this.socketPath, failure);
    }
  }
}

// Names and ids go into API paths unescaped (dockerode joins them in as they are),
// so only strict ones are let through.
function checkName(name: string): void {
  if (!CONTAINER_NAME_PATTERN.test(name)) {
    throw new InvalidInputError(
      `"${name}" is not a valid container name: use 1-127 letters, digits, ".", "_" or "-", starting with a letter or digit`,
    );
  }
}

function checkContainerRef(nameOrId: string): void {
  if (!CONTAINER_ID.test(nameOrId)) checkName(nameOrId);
}

/** Full ids are unreadable in a message; operators know the 12-character form from `docker ps`. */
function shown(nameOrId: string): string {
  return CONTAINER_ID.test(nameOrId) ? nameOrId.slice(0, 12) : nameOrId;
}

function checkImageRef(ref: string): void {
  if (!imageRefSchema.safeParse(ref).success) {
    throw new InvalidInputError(
      `"${ref}" is not a valid image reference (expected e.g. registry:5000/app:v2)`,
    );
  }
}

function toSnapshot(c: ContainerInspect): ContainerSnapshot {
  const startedAtMs = Date.parse(c.State.StartedAt ?? '');
  return {
    id: c.Id,
    name: c.Name.replace(/^\//, ''),
    image: c.Config.Image ?? c.Image,
    imageId: c.Image,
    running: c.State.Running,
    state: c.State.Status,
    exitCode: c.State.ExitCode,
    health: healthOf(c),
    // Docker reports "0001-01-01T00:00:00Z" for a container that never started.
    startedAtMs: Number.isFinite(startedAtMs) && startedAtMs > 0 ? startedAtMs : 0,
    restartCount: c.RestartCount ?? 0,
  };
}

function healthOf(c: ContainerInspect): HealthState {
  const test = c.Config.Healthcheck?.Test;
  if (!test?.length || test[0] === 'NONE') return 'none';
  const status = c.State.Health?.Status;
  // A container with a healthcheck that has not reported yet (or never ran) is not known healthy.
  return status === 'healthy' || status === 'unhealthy' ? status : 'starting';
}

function buildIdsOf(image: ImageInspect): string[] {
  return [image.Id, ...(image.RepoDigests ?? [])];
}
