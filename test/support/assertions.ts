import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type LoadReport, type LocalHost } from '@fleetroll/local-fleet';

const STATE_LINES_SHOWN = 80;
const REQUEST_LINES_SHOWN = 10;
const STATE_LINE = /Health check|Server |has no server available/;
/** Only failed requests are logged (dontlog-normal). */
const REQUEST_LINE = /"[A-Z]+ \S+ HTTP\//;

/**
 * Why HAProxy answered as it did, for each host given whose frontend failed a request: its last
 * check results and server state changes, then its first failed requests with their termination
 * state (`SC--`: the server refused the connection, `SC` after retries; `-NOSRV`: no server).
 */
function haproxyLogs(
  report: LoadReport,
  hosts: readonly Pick<LocalHost, 'hostId' | 'frontendUrl' | 'haproxyLog'>[],
): string {
  const failed = new Set(report.failures.map((f) => f.target));
  return hosts
    .filter((h) => failed.has(h.frontendUrl))
    .map((h) => {
      let lines: string[];
      try {
        // Log lines start with their time; HAProxy's untimed "[WARNING] ..." copies are left out.
        lines = readFileSync(h.haproxyLog, 'utf8')
          .split('\n')
          .filter((line) => /^\d/.test(line));
      } catch (err) {
        return `\nHAProxy log of ${h.hostId} unreadable: ${(err as Error).message}`;
      }
      const state = lines.filter((l) => STATE_LINE.test(l)).slice(-STATE_LINES_SHOWN);
      const requests = lines.filter((l) => REQUEST_LINE.test(l)).slice(0, REQUEST_LINES_SHOWN);
      return `\nHAProxy of ${h.hostId} (${h.haproxyLog}):\n${[...state, ...requests].join('\n')}`;
    })
    .join('');
}

/**
 * The core promise of fleetroll, asserted with enough detail to debug a failure: the first
 * failures, and the HAProxy logs of the hosts given whose frontends failed.
 */
export function assertNoFailedRequests(
  report: LoadReport,
  hosts: readonly Pick<LocalHost, 'hostId' | 'frontendUrl' | 'haproxyLog'>[] = [],
  minRps = 200,
): void {
  if (report.failed > 0) {
    const detail = JSON.stringify({
      byReason: report.byReason,
      byStatus: report.byStatus,
      first: report.failures.slice(0, 5),
    });
    assert.fail(
      `${report.failed} of ${report.total} requests failed: ${detail}${haproxyLogs(report, hosts)}`,
    );
  }
  assert.ok(
    report.achievedRps >= minRps,
    `load ran at ${report.achievedRps.toFixed(0)} req/s, below ${minRps}`,
  );
  assert.ok(report.slowOk > 0, 'no long request completed: draining was not exercised');
}

export async function httpGet(url: string): Promise<string> {
  const res = await fetch(url, { signal: AbortSignal.timeout(3_000) });
  return (await res.text()).trim();
}
