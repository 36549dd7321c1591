import type Docker from 'dockerode';
import type {
  ContainerConfig,
  ContainerInspect,
  EndpointInspect,
  HealthConfig,
  HostConfig,
  ImageConfig,
  ImageInspect,
  MountPoint,
} from './inspect.js';

export interface NetworkAttachment {
  network: string;
  endpoint: Docker.EndpointSettings;
}

export interface ReplacementSpec {
  /** Body of POST /containers/create; the name travels separately. */
  create: Docker.ContainerCreateOptions;
  /**
   * Docker API 1.41 accepts a single network at create time, so any further
   * networks must be connected after create and before the first start.
   */
  laterNetworks: NetworkAttachment[];
}

/**
 * The create options for a container that replaces `container` but runs
 * `newImage`. A container's inspected Config is the old image's config merged
 * with what the operator set; values that merely came from the old image are
 * left out so that the daemon fills them from the new image (its new CMD, ENV
 * or HEALTHCHECK must take effect), as watchtower does.
 */
export function cloneForImage(
  container: ContainerInspect,
  oldImage: ImageInspect,
  newImage: string,
): ReplacementSpec {
  const config = container.Config;
  const image: ImageConfig = oldImage.Config ?? {};
  const [primary, ...laterNetworks] = networkAttachments(container);
  const create: Docker.ContainerCreateOptions = {
    Image: newImage,
    Hostname: operatorHostname(container),
    Domainname: config.Domainname || undefined,
    User: unlessInherited(config.User, image.User),
    WorkingDir: unlessInherited(config.WorkingDir, image.WorkingDir),
    Env: listWithout(config.Env, image.Env),
    ...command(config, image),
    Healthcheck: healthcheck(config.Healthcheck, image.Healthcheck),
    Labels: mapWithout(config.Labels, image.Labels),
    ExposedPorts: exposedPorts(config, image, container.HostConfig),
    Volumes: keysWithout(config.Volumes, image.Volumes),
    StopSignal: unlessInherited(config.StopSignal, image.StopSignal),
    StopTimeout: config.StopTimeout ?? undefined,
    Shell: unlessInherited(config.Shell, image.Shell),
    MacAddress: config.MacAddress || undefined,
    Tty: config.Tty,
    OpenStdin: config.OpenStdin,
    StdinOnce: config.StdinOnce,
    AttachStdin: config.AttachStdin,
    AttachStdout: config.AttachStdout,
    AttachStderr: config.AttachStderr,
    HostConfig: hostConfig(container),
    NetworkingConfig: primary ? { EndpointsConfig: { [primary.network]: primary.endpoint } } : undefined,
  };
  return { create: withoutUndefined(create), laterNetworks };
}

/** Deep equality for JSON values, where an absent value and null mean the same. */
function same(a: unknown, b: unknown): boolean {
  if (a === undefined || a === null) return b === undefined || b === null;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((v, i) => same(v, b[i]));
  return a === b;
}

function unlessInherited<T>(value: T | null | undefined, imageValue: T | null | undefined): T | undefined {
  if (value === undefined || value === null || value === '' || same(value, imageValue)) return undefined;
  return value;
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}

function nonEmptyMap<T>(map: Record<string, T>): Record<string, T> | undefined {
  return Object.keys(map).length > 0 ? map : undefined;
}

function listWithout(list: string[] | null | undefined, inherited: string[] | null | undefined) {
  const drop = new Set(inherited ?? []);
  return nonEmpty((list ?? []).filter((item) => !drop.has(item)));
}

function mapWithout(
  map: Record<string, string> | null | undefined,
  inherited: Record<string, string> | null | undefined,
) {
  return nonEmptyMap(Object.fromEntries(Object.entries(map ?? {}).filter(([k, v]) => inherited?.[k] !== v)));
}

function keysWithout(
  map: Record<string, object> | null | undefined,
  inherited: Record<string, object> | null | undefined,
) {
  return nonEmptyMap(
    Object.fromEntries(Object.keys(map ?? {}).flatMap((k) => (inherited?.[k] ? [] : [[k, {}]]))),
  );
}

function withoutUndefined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

/** Docker names a container's host after its short id unless told otherwise; a new id must get its own. */
function operatorHostname(container: ContainerInspect): string | undefined {
  const hostname = container.Config.Hostname;
  if (!hostname || hostname === container.Id.slice(0, 12)) return undefined;
  // Docker refuses a hostname for a container that shares another's network namespace.
  if (container.HostConfig.NetworkMode?.startsWith('container:')) return undefined;
  return hostname;
}

function command(
  config: ContainerConfig,
  image: ImageConfig,
): Pick<Docker.ContainerCreateOptions, 'Cmd' | 'Entrypoint'> {
  if (same(config.Entrypoint, image.Entrypoint)) {
    return { Cmd: unlessInherited(config.Cmd, image.Cmd) };
  }
  // The daemon takes the image's Cmd only when the request has no Entrypoint, so
  // with the operator's own Entrypoint the Cmd must be sent as it is. An empty
  // list (not null) is how the API says "no entrypoint" rather than "inherit".
  return { Entrypoint: config.Entrypoint ?? [], Cmd: config.Cmd ?? undefined };
}

/** The daemon fills each absent field of a healthcheck from the image, so only changed fields are sent. */
function healthcheck(
  container: HealthConfig | null | undefined,
  image: HealthConfig | null | undefined,
): Docker.HealthConfig | undefined {
  if (!container) return undefined;
  return nonEmptyMap(
    withoutUndefined({
      Test: unlessInherited(container.Test, image?.Test),
      Interval: unlessInherited(container.Interval, image?.Interval),
      Timeout: unlessInherited(container.Timeout, image?.Timeout),
      StartPeriod: unlessInherited(container.StartPeriod, image?.StartPeriod),
      Retries: unlessInherited(container.Retries, image?.Retries),
    }),
  );
}

function exposedPorts(config: ContainerConfig, image: ImageConfig, host: HostConfig) {
  const ports = keysWithout(config.ExposedPorts, image.ExposedPorts) ?? {};
  // A published port must stay exposed even if the new image no longer declares it.
  for (const port of Object.keys(host.PortBindings ?? {})) ports[port] = {};
  return nonEmptyMap(ports);
}

function hostConfig(container: ContainerInspect): Docker.HostConfig {
  const host = container.HostConfig;
  const mounted = container.Mounts ?? [];
  // An anonymous volume asked for with --mount has no Source; name the one Docker made, so its data stays.
  const mounts = host.Mounts?.map((spec) => ({
    ...spec,
    Source: spec.Source || (spec.Type === 'volume' ? volumeAt(mounted, spec.Target) : '') || '',
  }));
  return {
    ...host,
    Binds: nonEmpty([...(host.Binds ?? []), ...anonymousVolumeBinds(container)]),
    Mounts: mounts ?? undefined,
    Links: host.Links?.map(createLink),
  };
}

function volumeAt(mounted: MountPoint[], target: string): string | undefined {
  return mounted.find((m) => m.Type === 'volume' && m.Destination === target)?.Name;
}

/**
 * Anonymous volumes (an image's VOLUME, `-v /path`) hold the app's data, not
 * image defaults: an image only seeds a volume when it is new. Mounting the
 * same volumes into the replacement, as `docker compose` does on recreate,
 * keeps that data instead of silently starting over with empty ones.
 */
function anonymousVolumeBinds(container: ContainerInspect): string[] {
  const host = container.HostConfig;
  const configured = new Set([
    ...(host.Binds ?? []).map((bind) => bind.split(':')[1]),
    ...(host.Mounts ?? []).map((spec) => spec.Target),
  ]);
  return (container.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && m.Destination && !configured.has(m.Destination))
    .map((m) => `${m.Name}:${m.Destination}${m.RW === false ? ':ro' : ''}`);
}

/** Inspect reports a legacy link as "/db:/web/db"; create wants "db:db". */
function createLink(link: string): string {
  const [target = '', alias = ''] = link.split(':');
  return `${target.replace(/^\//, '')}:${alias.slice(alias.lastIndexOf('/') + 1)}`;
}

function networkAttachments(container: ContainerInspect): NetworkAttachment[] {
  const mode = container.HostConfig.NetworkMode || 'default';
  // These modes have no endpoint of their own to configure.
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:')) return [];
  const primaryName = mode === 'default' ? 'bridge' : mode;
  const shortId = container.Id.slice(0, 12);
  const attachments = Object.entries(container.NetworkSettings?.Networks ?? {}).map(
    ([network, endpoint]) => ({
      network,
      endpoint: endpointSettings(endpoint, shortId),
      primary: network === primaryName || endpoint.NetworkID === primaryName,
    }),
  );
  // The network named in NetworkMode is the one Docker accepts at create.
  attachments.sort((a, b) => Number(b.primary) - Number(a.primary));
  return attachments.map(({ network, endpoint }) => ({ network, endpoint }));
}

/** Keeps what the operator configured on an endpoint; addresses and ids belong to the old container. */
function endpointSettings(endpoint: EndpointInspect, shortId: string): Docker.EndpointSettings {
  const ipam = endpoint.IPAMConfig;
  return withoutUndefined({
    IPAMConfig: ipam
      ? nonEmptyMap(
          withoutUndefined({
            IPv4Address: ipam.IPv4Address || undefined,
            IPv6Address: ipam.IPv6Address || undefined,
            LinkLocalIPs: nonEmpty(ipam.LinkLocalIPs ?? []),
          }),
        )
      : undefined,
    Links: nonEmpty(endpoint.Links ?? []),
    // Docker adds the short id as an alias by itself; the old one would point at the wrong container.
    Aliases: nonEmpty((endpoint.Aliases ?? []).filter((alias) => alias !== shortId)),
    DriverOpts: nonEmptyMap(endpoint.DriverOpts ?? {}),
  });
}
