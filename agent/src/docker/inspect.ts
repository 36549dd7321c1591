import { InternalError } from '@fleetroll/shared';

/*
 * The parts of Docker's inspect replies that fleetroll reads, typed as Docker
 * really sends them: empty lists and maps often arrive as null, and dockerode's
 * own types leave several of these fields as `any`.
 */

export interface HealthConfig {
  Test?: string[] | null;
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
}

/** Config as an image declares it; a container's Config is the merge of image and operator. */
export interface ImageConfig {
  User?: string;
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  Healthcheck?: HealthConfig | null;
  WorkingDir?: string;
  Labels?: Record<string, string> | null;
  ExposedPorts?: Record<string, object> | null;
  Volumes?: Record<string, object> | null;
  StopSignal?: string;
  Shell?: string[] | null;
}

export interface ContainerConfig extends ImageConfig {
  Hostname?: string;
  Domainname?: string;
  Image?: string;
  MacAddress?: string;
  StopTimeout?: number | null;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
}

export interface PortBinding {
  HostIp?: string;
  HostPort?: string;
}

/** Mount types of Docker Engine on Linux. */
export const MOUNT_TYPES = ['bind', 'volume', 'tmpfs'] as const;

/** An entry of HostConfig.Mounts: what the operator asked for with --mount. */
export interface MountSpec {
  Type: (typeof MOUNT_TYPES)[number];
  /** Absent for tmpfs and for an anonymous volume. */
  Source?: string;
  Target: string;
  [key: string]: unknown;
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: MountSpec[] | null;
  PortBindings?: Record<string, PortBinding[] | null> | null;
  NetworkMode?: string;
  Links?: string[] | null;
  /** Everything else Docker reports goes back to Docker unchanged. */
  [key: string]: unknown;
}

/** An entry of the container's top-level Mounts: what Docker actually mounted. */
export interface MountPoint {
  Type?: string;
  Name?: string;
  Source?: string;
  Destination?: string;
  RW?: boolean;
}

export interface IpamConfig {
  IPv4Address?: string;
  IPv6Address?: string;
  LinkLocalIPs?: string[] | null;
}

export interface EndpointInspect {
  IPAMConfig?: IpamConfig | null;
  Links?: string[] | null;
  Aliases?: string[] | null;
  DriverOpts?: Record<string, string> | null;
  [key: string]: unknown;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  /** Content id of the image the container runs. */
  Image: string;
  /** Times the restart policy started the container again; absent from some engines' replies. */
  RestartCount?: number;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    StartedAt?: string;
    Health?: { Status?: string } | null;
  };
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts?: MountPoint[] | null;
  NetworkSettings?: { Networks?: Record<string, EndpointInspect> | null } | null;
}

export interface ImageInspect {
  Id: string;
  /** The registry digests it was pulled by ("name@sha256:…"); none for an image built here. */
  RepoDigests?: string[] | null;
  Config?: ImageConfig | null;
}

type Kind =
  'string' | 'number' | 'boolean' | 'strings' | 'stringOrStrings' | 'stringMap' | 'object' | 'objects';
type Fields = Record<string, Kind>;

const KIND_TEXT: Record<Kind, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  strings: 'a list of strings',
  stringOrStrings: 'a string or a list of strings',
  stringMap: 'a map of strings',
  object: 'an object',
  objects: 'a list of objects',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function matches(value: unknown, kind: Kind): boolean {
  switch (kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === kind;
    case 'strings':
      return isStrings(value);
    case 'stringOrStrings':
      return typeof value === 'string' || isStrings(value);
    case 'stringMap':
      return isRecord(value) && Object.values(value).every((v) => typeof v === 'string');
    case 'object':
      return isRecord(value);
    case 'objects':
      return Array.isArray(value) && value.every(isRecord);
  }
}

class ReplyChecker {
  constructor(readonly what: string) {}

  fail(path: string, kind: Kind): never {
    throw new InternalError(
      `Docker sent an unexpected reply for ${this.what}: ${path} should be ${KIND_TEXT[kind]}`,
    );
  }

  record(value: unknown, path: string): Record<string, unknown> {
    if (!isRecord(value)) this.fail(path, 'object');
    return value;
  }

  /** Checks the fields that are present; absent and null fields are accepted, as Docker sends both. */
  fields(obj: Record<string, unknown>, fields: Fields, path: string): void {
    for (const [key, kind] of Object.entries(fields)) {
      const value = obj[key];
      if (value !== undefined && value !== null && !matches(value, kind)) this.fail(`${path}.${key}`, kind);
    }
  }

  required(obj: Record<string, unknown>, fields: Fields, path: string): void {
    for (const [key, kind] of Object.entries(fields)) {
      if (!matches(obj[key], kind)) this.fail(`${path}.${key}`, kind);
    }
  }

  /** Checks every element of an optional list or map of objects. */
  each(value: unknown, fields: Fields, path: string): void {
    if (value === undefined || value === null) return;
    const entries = Array.isArray(value) ? value.entries() : Object.entries(this.record(value, path));
    for (const [key, item] of entries)
      this.fields(this.record(item, `${path}.${key}`), fields, `${path}.${key}`);
  }
}

const IMAGE_CONFIG_FIELDS: Fields = {
  User: 'string',
  Env: 'strings',
  Cmd: 'strings',
  Entrypoint: 'stringOrStrings',
  Healthcheck: 'object',
  WorkingDir: 'string',
  Labels: 'stringMap',
  ExposedPorts: 'object',
  Volumes: 'object',
  StopSignal: 'string',
  Shell: 'strings',
};

const CONTAINER_CONFIG_FIELDS: Fields = {
  ...IMAGE_CONFIG_FIELDS,
  Hostname: 'string',
  Domainname: 'string',
  Image: 'string',
  MacAddress: 'string',
  StopTimeout: 'number',
  Tty: 'boolean',
  OpenStdin: 'boolean',
  StdinOnce: 'boolean',
  AttachStdin: 'boolean',
  AttachStdout: 'boolean',
  AttachStderr: 'boolean',
};

const HEALTH_FIELDS: Fields = {
  Test: 'strings',
  Interval: 'number',
  Timeout: 'number',
  StartPeriod: 'number',
  Retries: 'number',
};

function checkConfig(check: ReplyChecker, value: unknown, fields: Fields): void {
  const config = check.record(value, 'Config');
  check.fields(config, fields, 'Config');
  if (isRecord(config.Healthcheck)) check.fields(config.Healthcheck, HEALTH_FIELDS, 'Config.Healthcheck');
}

function checkMountSpecs(check: ReplyChecker, mounts: unknown): void {
  check.each(mounts, { Source: 'string' }, 'HostConfig.Mounts');
  if (!Array.isArray(mounts)) return;
  mounts.forEach((spec: Record<string, unknown>, i) => {
    check.required(spec, { Target: 'string' }, `HostConfig.Mounts.${i}`);
    if (!MOUNT_TYPES.some((type) => type === spec.Type)) {
      throw new InternalError(
        `${check.what} has a mount of type ${String(spec.Type)} at ${String(spec.Target)}, ` +
          `which fleetroll cannot recreate (it knows ${MOUNT_TYPES.join(', ')})`,
      );
    }
  });
}

function checkNetworks(check: ReplyChecker, networks: unknown): void {
  const path = 'NetworkSettings.Networks';
  check.each(
    networks,
    { IPAMConfig: 'object', Links: 'strings', Aliases: 'strings', DriverOpts: 'stringMap' },
    path,
  );
  if (!isRecord(networks)) return;
  for (const [name, endpoint] of Object.entries(networks)) {
    if (isRecord(endpoint) && isRecord(endpoint.IPAMConfig)) {
      check.fields(
        endpoint.IPAMConfig,
        { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: 'strings' },
        `${path}.${name}.IPAMConfig`,
      );
    }
  }
}

/** Narrows GET /containers/{id}/json; what it returns can be trusted from then on. */
export function readContainerInspect(raw: unknown, what: string): ContainerInspect {
  const check = new ReplyChecker(what);
  const reply = check.record(raw, 'the reply');
  check.required(reply, { Id: 'string', Name: 'string', Image: 'string' }, 'reply');
  const state = check.record(reply.State, 'State');
  check.required(state, { Status: 'string', Running: 'boolean', ExitCode: 'number' }, 'State');
  check.fields(state, { StartedAt: 'string', Health: 'object' }, 'State');
  if (isRecord(state.Health)) check.fields(state.Health, { Status: 'string' }, 'State.Health');
  checkConfig(check, reply.Config, CONTAINER_CONFIG_FIELDS);
  const hostConfig = check.record(reply.HostConfig, 'HostConfig');
  check.fields(
    hostConfig,
    { Binds: 'strings', Mounts: 'objects', PortBindings: 'object', NetworkMode: 'string', Links: 'strings' },
    'HostConfig',
  );
  checkMountSpecs(check, hostConfig.Mounts);
  if (isRecord(hostConfig.PortBindings)) {
    for (const [port, bindings] of Object.entries(hostConfig.PortBindings)) {
      if (bindings !== null && !matches(bindings, 'objects'))
        check.fail(`HostConfig.PortBindings.${port}`, 'objects');
      check.each(bindings, { HostIp: 'string', HostPort: 'string' }, `HostConfig.PortBindings.${port}`);
    }
  }
  check.fields(reply, { Mounts: 'objects', NetworkSettings: 'object', RestartCount: 'number' }, 'reply');
  check.each(
    reply.Mounts,
    { Type: 'string', Name: 'string', Destination: 'string', RW: 'boolean' },
    'Mounts',
  );
  if (isRecord(reply.NetworkSettings)) checkNetworks(check, reply.NetworkSettings.Networks);
  // Every field read above has been checked against the declared type.
  return reply as unknown as ContainerInspect;
}

/** Narrows GET /images/{name}/json. */
export function readImageInspect(raw: unknown, what: string): ImageInspect {
  const check = new ReplyChecker(what);
  const reply = check.record(raw, 'the reply');
  check.required(reply, { Id: 'string' }, 'reply');
  check.fields(reply, { RepoDigests: 'strings' }, 'reply');
  if (reply.Config !== undefined && reply.Config !== null)
    checkConfig(check, reply.Config, IMAGE_CONFIG_FIELDS);
  return reply as unknown as ImageInspect;
}
