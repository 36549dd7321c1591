import { ContainerNotFoundError, DockerUnavailableError, FleetrollError } from '@fleetroll/shared';

type ErrorClass = new (message: string, options?: { cause?: unknown }) => FleetrollError;

export interface Failure {
  /** What was being done, as an operator would say it: "start container web-1". */
  action: string;
  /** Set when a 404 means this container is missing (rather than, say, an image). */
  container?: string;
  /** The class for every other failure of this action. */
  as: ErrorClass;
}

const SOCKET_PROBLEMS: Record<string, string> = {
  ENOENT: 'the socket does not exist; is dockerd running?',
  ECONNREFUSED: 'nothing is listening on the socket; is dockerd running?',
  EACCES: 'permission denied; run the agent as root or as a member of the docker group',
  EPERM: 'permission denied; run the agent as root or as a member of the docker group',
  ECONNRESET: 'the daemon dropped the connection; is dockerd restarting?',
  EPIPE: 'the daemon dropped the connection; is dockerd restarting?',
};

function field(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/** The HTTP status of a failed Docker API call (dockerode puts it on the error), if there was a reply. */
export function statusOf(err: unknown): number | undefined {
  const status = field(err, 'statusCode');
  return typeof status === 'number' ? status : undefined;
}

/** Docker's own words: its JSON `message`, without dockerode's "(HTTP code 500) server error - " prefix. */
export function dockerMessage(err: unknown): string {
  const message = field(field(err, 'json'), 'message');
  if (typeof message === 'string' && message.trim()) return message.trim();
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

export function toFleetrollError(err: unknown, socketPath: string, failure: Failure): FleetrollError {
  if (err instanceof FleetrollError) return err;
  const code = field(err, 'code');
  const problem = typeof code === 'string' ? SOCKET_PROBLEMS[code] : undefined;
  if (problem && statusOf(err) === undefined) {
    return new DockerUnavailableError(
      `cannot ${failure.action}: Docker is not reachable at ${socketPath}: ${problem}`,
      { cause: err },
    );
  }
  if (statusOf(err) === 404 && failure.container !== undefined) {
    return new ContainerNotFoundError(
      `cannot ${failure.action}: there is no container ${failure.container} on this host`,
      { cause: err },
    );
  }
  return new failure.as(`cannot ${failure.action}: Docker says: ${dockerMessage(err)}`, { cause: err });
}
