/**
 * What the slot workflow needs from the outside world. The real implementations
 * are HaproxyClient (haproxy/) and DockerRuntime (docker/); unit tests use fakes.
 */

/** One server's line of HAProxy's `show stat`, reduced to what the workflow reads. */
export interface ServerStat {
  backend: string;
  server: string;
  /** Current sessions: the connections still open to this server. */
  scur: number;
  /** UP, DOWN, MAINT, DRAIN, "UP 1/2" (going down), "DOWN 1/2" (going up), "no check". */
  status: string;
  /** Last health check result, e.g. L7OK, L4CON; empty when the server is not checked. */
  checkStatus: string;
  weight: number;
  /** chkdown: how often checks took the server from UP to DOWN since HAProxy started. */
  downCount: number;
}

export interface LoadBalancer {
  getWeight(backend: string, server: string): Promise<number>;
  setWeight(backend: string, server: string, weight: number): Promise<void>;
  serverStat(backend: string, server: string): Promise<ServerStat>;
  /** Every server of the backend (none when HAProxy has no such backend). */
  backendStat(backend: string): Promise<ServerStat[]>;
  /** The server and the other servers of its backend, in one look: what a drain polls. */
  serverAndSiblings(backend: string, server: string): Promise<{ own: ServerStat; others: ServerStat[] }>;
  /** The pid of the HAProxy process answering the socket now: a reload starts another. */
  processId(): Promise<number>;
  /** Whether that HAProxy process still runs: after a reload the old one finishes its requests. */
  processRunning(pid: number): boolean;
  /**
   * The older processes that process `pid` was told to take over from (`-sf`/`-st` on its command
   * line, in either way of reloading; or HAProxy's old workers, as its master CLI lists them): they
   * may still be finishing requests. [] when unknown.
   */
  previousProcesses(pid: number): Promise<number[]>;
  /**
   * Through HAProxy's master CLI, where there is one: the sessions the old process `pid` still
   * has on the server (0 once it has exited). Undefined when it cannot be asked (no master CLI,
   * or the master cannot reach that process): then only its exit tells.
   */
  oldProcessSessions(pid: number, backend: string, server: string): Promise<number | undefined>;
}

export type HealthState = 'healthy' | 'unhealthy' | 'starting' | 'none';

export interface ContainerSnapshot {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  /** The reference the container was created from, e.g. 127.0.0.1:5000/app:v1. */
  image: string;
  /** The content id (sha256:...) of that image. */
  imageId: string;
  running: boolean;
  /** Docker's State.Status: created, running, exited, ... */
  state: string;
  exitCode: number;
  /** 'none' when the container has no HEALTHCHECK. */
  health: HealthState;
  /** When the container last started (ms since epoch); 0 if never. */
  startedAtMs: number;
  /** Docker's RestartCount: times the restart policy started it again since it was created. */
  restartCount: number;
}

export interface ContainerRuntime {
  /** Throws ContainerNotFoundError when there is no such container. */
  inspect(nameOrId: string): Promise<ContainerSnapshot>;
  /** Like inspect, but null when there is no such container. */
  find(nameOrId: string): Promise<ContainerSnapshot | null>;
  /**
   * Pulls the image unless it is already present; throws ImagePullError, also when `stop` ends the
   * pull. Says what identifies the build the reference names now: its id, then the registry digests
   * it was pulled by (see sameBuild).
   */
  ensureImage(ref: string, stop?: AbortSignal): Promise<{ pulled: boolean; buildIds: string[] }>;
  /** Graceful stop (SIGTERM, then SIGKILL after timeoutS); no-op if already stopped. */
  stop(id: string, timeoutS: number): Promise<void>;
  rename(id: string, newName: string): Promise<void>;
  /**
   * Creates (does not start) a container named `name` with the full configuration
   * of `templateId` but running `image`. Returns the new container's id.
   */
  createFrom(templateId: string, name: string, image: string): Promise<string>;
  start(id: string): Promise<void>;
  /** Force-removes; no-op when the container is already gone. */
  remove(id: string): Promise<void>;
}
