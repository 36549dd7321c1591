import { setTimeout as sleep } from 'node:timers/promises';
import { HaproxySocketMissingError, HaproxyUnexpectedReplyError } from '@fleetroll/shared';
import type { LoadBalancer, ServerStat } from './ports.js';

/** How long HAProxy's runtime socket may stay away (a restart: stopped, then started) before a call fails. */
export const HAPROXY_AWAY_MS = 10_000;
const RETRY_MS = 100;

/** A socket that is not there, or that HAProxy closed under the exchange as it stopped. */
function isAway(err: unknown): boolean {
  if (err instanceof HaproxySocketMissingError) return true;
  const code = err instanceof HaproxyUnexpectedReplyError ? (err.cause as NodeJS.ErrnoException)?.code : '';
  return code === 'ECONNRESET' || code === 'EPIPE';
}

/**
 * The load balancer as a slot uses it: a call that finds HAProxy's runtime socket away (HAProxy
 * restarted, as a package upgrade or `systemctl restart` does) is asked again until it answers, for
 * up to `awayMs`, instead of failing the slot (and with it the host) over a second's gap. What
 * HAProxy forgot meanwhile (weights) the slot's own checks set right. Each time it was away is
 * kept for the slot to report.
 */
export class PatientLoadBalancer implements LoadBalancer {
  private readonly away: number[] = [];

  constructor(
    private readonly lb: LoadBalancer,
    private readonly awayMs = HAPROXY_AWAY_MS,
  ) {}

  /** How long, in ms, each time the socket was away since the last call. */
  takeAbsences(): number[] {
    return this.away.splice(0);
  }

  getWeight(backend: string, server: string): Promise<number> {
    return this.patiently(() => this.lb.getWeight(backend, server));
  }

  setWeight(backend: string, server: string, weight: number): Promise<void> {
    return this.patiently(() => this.lb.setWeight(backend, server, weight));
  }

  serverStat(backend: string, server: string): Promise<ServerStat> {
    return this.patiently(() => this.lb.serverStat(backend, server));
  }

  backendStat(backend: string): Promise<ServerStat[]> {
    return this.patiently(() => this.lb.backendStat(backend));
  }

  serverAndSiblings(backend: string, server: string): Promise<{ own: ServerStat; others: ServerStat[] }> {
    return this.patiently(() => this.lb.serverAndSiblings(backend, server));
  }

  processId(): Promise<number> {
    return this.patiently(() => this.lb.processId());
  }

  processRunning(pid: number): boolean {
    return this.lb.processRunning(pid);
  }

  previousProcesses(pid: number): Promise<number[]> {
    return this.lb.previousProcesses(pid);
  }

  oldProcessSessions(pid: number, backend: string, server: string): Promise<number | undefined> {
    return this.lb.oldProcessSessions(pid, backend, server);
  }

  /** The first attempt costs one promise reaction more than the call: slots poll often. */
  private patiently<T>(call: () => Promise<T>): Promise<T> {
    return call().catch((err: unknown) => this.again(call, err));
  }

  /** Gives up with the latest error: a reset as HAProxy stopped says less than the missing socket after it. */
  private async again<T>(call: () => Promise<T>, first: unknown): Promise<T> {
    if (!isAway(first)) throw first;
    const since = Date.now();
    let latest = first;
    for (;;) {
      if (Date.now() - since >= this.awayMs) throw latest;
      await sleep(RETRY_MS);
      try {
        const value = await call();
        this.away.push(Date.now() - since);
        return value;
      } catch (err) {
        if (!isAway(err)) throw err;
        latest = err;
      }
    }
  }
}

/** "HAProxy's runtime socket did not answer for 1.1 s (restarted?)"; '' when it always did. */
export function absenceNote(absences: readonly number[]): string {
  if (absences.length === 0) return '';
  const times = absences.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(', ');
  const what = absences.length === 1 ? `for ${times}` : `${absences.length} times (${times})`;
  return `HAProxy's runtime socket did not answer ${what} (restarted?): waited for it`;
}
