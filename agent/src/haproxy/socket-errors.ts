import { userInfo } from 'node:os';
import {
  HaproxyPermissionError,
  HaproxySocketMissingError,
  HaproxyUnexpectedReplyError,
  type FleetrollError,
} from '@fleetroll/shared';

/** Names the account whose access matters, so the operator knows whom to grant it to. */
export function currentUser(): string {
  const uid = process.getuid?.();
  try {
    return `user ${userInfo().username} (uid ${uid ?? '?'})`;
  } catch {
    // No passwd entry (e.g. an arbitrary uid in a container): the uid is all there is.
    return `uid ${uid ?? '?'}`;
  }
}

/** Turns a failed connection or exchange on the runtime socket into what an operator can act on. */
export function mapSocketError(
  err: NodeJS.ErrnoException,
  socketPath: string,
  user: string = currentUser(),
): FleetrollError {
  switch (err.code) {
    // A stale socket file of a stopped HAProxy refuses; a never-configured one is absent.
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new HaproxySocketMissingError(
        `cannot connect to the HAProxy runtime socket ${socketPath} (${err.code}): HAProxy may not be running, ` +
          'or its global section has no matching `stats socket ... level admin` line',
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new HaproxyPermissionError(
        `permission denied on the HAProxy runtime socket ${socketPath} (${err.code}): the agent runs as ${user}, ` +
          'which needs read and write access to it (e.g. `stats socket ... mode 660 group <a group of that user>`)',
        { cause: err },
      );
    default:
      return new HaproxyUnexpectedReplyError(
        `the connection to the HAProxy runtime socket ${socketPath} failed (${err.code ?? err.message})`,
        { cause: err },
      );
  }
}
