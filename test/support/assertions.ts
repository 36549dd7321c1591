import assert from 'node:assert/strict';
import { type LoadReport } from '@fleetroll/local-fleet';

/** The core promise of fleetroll, asserted with enough detail to debug a failure. */
export function assertNoFailedRequests(report: LoadReport, minRps = 200): void {
  const detail = JSON.stringify({
    byReason: report.byReason,
    byStatus: report.byStatus,
    first: report.failures.slice(0, 5),
  });
  assert.equal(report.failed, 0, `${report.failed} of ${report.total} requests failed: ${detail}`);
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
