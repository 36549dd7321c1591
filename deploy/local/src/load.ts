// Load generator for rollout tests: drives HTTP traffic through the HAProxy frontends
// for the whole update and counts every failed request. It is open-loop (requests
// leave on a clock, not when the previous one returns), so a server that stalls
// shows up as timeouts and skipped requests instead of quietly lowering the rate.
import http from 'node:http';
import { isIPv4 } from 'node:net';

export interface LoadOptions {
  /** Base URLs such as http://127.0.0.1:20001; loopback only. */
  targets: string[];
  /** Total requests per second across all targets. */
  rps: number;
  /** Every Nth request to each target goes to slowPath (long requests prove draining). */
  slowEvery?: number;
  slowPath?: string;
  fastPath?: string;
  /** Per-request bound, from send to end of body. */
  timeoutMs?: number;
  /** The run stops issuing by itself after this long. */
  maxDurationMs: number;
  maxInFlight?: number;
  /** How long stop() waits for requests in flight before cutting them off. */
  drainTimeoutMs?: number;
  /**
   * Reuse connections (default true). A reload of HAProxy closes the idle ones, and a request
   * sent on one at that moment is reset (HAProxy's `idle-close-on-response` is for clients that
   * do not retry): a test that reloads HAProxy and counts what the agent did opens one per request.
   */
  keepAlive?: boolean;
}

export interface LoadFailure {
  atMs: number;
  target: string;
  path: string;
  reason: string;
}

export interface LoadReport {
  /** Requests due on the schedule: ok + failed. */
  total: number;
  ok: number;
  /** Includes `skipped`: a request the schedule owed but could not send is a failure too. */
  failed: number;
  /** Not sent because maxInFlight requests were already outstanding. */
  skipped: number;
  slowTotal: number;
  slowOk: number;
  /** Requests sent per second over durationMs. */
  achievedRps: number;
  /** From start until issuing stopped. */
  durationMs: number;
  byStatus: Record<string, number>;
  byReason: Record<string, number>;
  byTarget: Record<string, { ok: number; failed: number }>;
  /** Trimmed bodies of successful responses: which versions answered. */
  bodies: Record<string, number>;
  /** The first MAX_FAILURES failures, in order. */
  failures: LoadFailure[];
  /** Of successful fast requests. */
  latencyMs: { p50: number; p99: number; max: number };
  inFlightPeak: number;
}

export interface LoadRun {
  stop(): Promise<LoadReport>;
  /** Resolves when the run ends, by stop() or by maxDurationMs. */
  readonly done: Promise<LoadReport>;
  snapshot(): LoadReport;
}

const MAX_FAILURES = 50;
const MAX_BODY_BYTES = 256;
const TICK_MS = 5;
/** Well under HAProxy's 30 s: see the agent's `timeout` below. Only idle sockets are closed on it. */
const IDLE_SOCKET_MS = 10_000;

interface Target {
  url: string;
  host: string;
  port: number;
  agent: http.Agent;
  sent: number;
}

/** Parses a base URL and refuses anything that is not plain http on loopback. */
export function loopbackTarget(raw: string): { url: string; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new Error(`load target ${JSON.stringify(raw)} is not a URL`);
  }
  if (u.protocol !== 'http:') throw new Error(`load target ${raw}: only http:// is supported`);
  if (u.username || u.password || u.search || u.hash || u.pathname !== '/') {
    throw new Error(`load target ${raw}: give a base URL (scheme, host, port) only`);
  }
  // Pinned rather than resolved: "localhost" cannot then lead anywhere else, and
  // Node's ::1-first lookup would miss frontends bound to 127.0.0.1 only.
  const host =
    u.hostname === 'localhost'
      ? '127.0.0.1'
      : u.hostname === '[::1]'
        ? '::1'
        : isIPv4(u.hostname) && u.hostname.startsWith('127.')
          ? u.hostname
          : undefined;
  if (host === undefined) {
    throw new Error(`load target ${raw}: host ${u.hostname} is not loopback (127.0.0.0/8, ::1, localhost)`);
  }
  return { url: u.origin, host, port: u.port === '' ? 80 : Number(u.port) };
}

function positive(name: string, v: number, integer = false): number {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new Error(`load option ${name} must be a positive ${integer ? 'integer' : 'number'}, got ${v}`);
  }
  return v;
}

function checkPath(name: string, p: string): string {
  if (!p.startsWith('/')) throw new Error(`load option ${name} must start with '/', got ${p}`);
  return p;
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

export function startLoad(opts: LoadOptions): LoadRun {
  if (opts.targets.length === 0) throw new Error('load option targets is empty');
  const parsed = opts.targets.map(loopbackTarget);
  const rps = positive('rps', opts.rps);
  const maxDurationMs = positive('maxDurationMs', opts.maxDurationMs);
  const timeoutMs = positive('timeoutMs', opts.timeoutMs ?? 5000);
  const maxInFlight = positive('maxInFlight', opts.maxInFlight ?? 512, true);
  const drainTimeoutMs = positive('drainTimeoutMs', opts.drainTimeoutMs ?? timeoutMs + 1000);
  const slowEvery = opts.slowEvery === undefined ? 0 : positive('slowEvery', opts.slowEvery, true);
  const slowPath = checkPath('slowPath', opts.slowPath ?? '/cgi-bin/slow?1');
  const fastPath = checkPath('fastPath', opts.fastPath ?? '/');

  const targets: Target[] = parsed.map((t) => ({
    ...t,
    // timeout: an idle kept-alive socket is closed here before HAProxy closes it (its `timeout
    // client`, 30 s in the kit): a request sent on one as HAProxy closed it failed ECONNRESET, 5 at
    // once on sockets a burst had opened and the agent's LIFO reuse then left idle (a CI run).
    agent: new http.Agent({
      keepAlive: opts.keepAlive ?? true,
      maxSockets: maxInFlight,
      timeout: IDLE_SOCKET_MS,
    }),
    sent: 0,
  }));
  const r: LoadReport = {
    total: 0,
    ok: 0,
    failed: 0,
    skipped: 0,
    slowTotal: 0,
    slowOk: 0,
    achievedRps: 0,
    durationMs: 0,
    byStatus: {},
    byReason: {},
    byTarget: Object.fromEntries(targets.map((t) => [t.url, { ok: 0, failed: 0 }])),
    bodies: {},
    failures: [],
    latencyMs: { p50: 0, p99: 0, max: 0 },
    inFlightPeak: 0,
  };
  const latencies: number[] = [];
  // Each request in flight, with how to cut it off and count it failed at once.
  const inFlight = new Map<http.ClientRequest, (reason: string) => void>();
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  let scheduled = 0;
  let issuing = true;
  let issuingEndedMs = 0;

  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };
  const fail = (t: Target, path: string, reason: string): void => {
    r.failed++;
    bump(r.byReason, reason);
    const per = r.byTarget[t.url];
    if (per) per.failed++;
    if (r.failures.length < MAX_FAILURES) {
      r.failures.push({ atMs: Math.round(elapsed()), target: t.url, path, reason });
    }
  };

  const send = (t: Target): void => {
    const slow = slowEvery > 0 && t.sent % slowEvery === slowEvery - 1;
    t.sent++;
    r.total++;
    const path = slow ? slowPath : fastPath;
    if (slow) r.slowTotal++;
    if (inFlight.size >= maxInFlight) {
      r.skipped++;
      fail(t, path, `skipped: ${maxInFlight} requests in flight`);
      return;
    }
    const sentAt = performance.now();
    let settled = false;
    const req = http.request({ host: t.host, port: t.port, path, method: 'GET', agent: t.agent });
    const settle = (reason: string | undefined, body?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      inFlight.delete(req);
      if (reason !== undefined) return fail(t, path, reason);
      r.ok++;
      const per = r.byTarget[t.url];
      if (per) per.ok++;
      if (slow) r.slowOk++;
      else latencies.push(performance.now() - sentAt);
      bump(r.bodies, body ?? '');
    };
    const abort = (reason: string): void => {
      settle(reason);
      req.destroy();
    };
    const timer = setTimeout(() => abort(`timeout after ${timeoutMs}ms`), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
    req.on('response', (res) => {
      bump(r.byStatus, String(res.statusCode));
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY_BYTES) chunks.push(c);
        size += c.length;
      });
      res.on('error', (err: NodeJS.ErrnoException) => settle(err.code ?? err.message));
      // A connection cut mid-body does not always surface as an error event.
      res.on('close', () => {
        if (!res.complete) settle('response cut off');
      });
      res.on('end', () => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) return settle(`status ${status}`);
        settle(undefined, Buffer.concat(chunks).toString('utf8', 0, MAX_BODY_BYTES).trim());
      });
    });
    inFlight.set(req, abort);
    r.inFlightPeak = Math.max(r.inFlightPeak, inFlight.size);
    req.end();
  };

  // Catches up on whatever the clock says is due, so timer jitter does not lower
  // the rate; targets take turns so each sees rps / targets.length.
  const tick = (): void => {
    const now = Math.min(elapsed(), maxDurationMs);
    const due = Math.floor((now * rps) / 1000);
    while (scheduled < due) {
      const t = targets[scheduled % targets.length];
      scheduled++;
      if (t) send(t);
    }
  };
  const interval = setInterval(tick, TICK_MS);
  const hardStop = setTimeout(() => void stop(), maxDurationMs);

  const finish = (): LoadReport => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const round = (v: number): number => Math.round(v * 10) / 10;
    r.latencyMs = {
      p50: round(percentile(sorted, 0.5)),
      p99: round(percentile(sorted, 0.99)),
      max: round(sorted.at(-1) ?? 0),
    };
    r.durationMs = Math.round(issuing ? elapsed() : issuingEndedMs);
    const sent = r.total - r.skipped;
    r.achievedRps = r.durationMs > 0 ? Math.round((sent * 10000) / r.durationMs) / 10 : 0;
    return structuredClone(r);
  };

  let resolveDone: (rep: LoadReport) => void = () => undefined;
  const done = new Promise<LoadReport>((res) => (resolveDone = res));
  let stopping: Promise<LoadReport> | undefined;

  const drain = async (): Promise<LoadReport> => {
    const deadline = performance.now() + drainTimeoutMs;
    while (inFlight.size > 0 && performance.now() < deadline) {
      await new Promise((res) => setTimeout(res, 10));
    }
    for (const abort of [...inFlight.values()]) abort(`still in flight ${drainTimeoutMs}ms after stop`);
    for (const t of targets) t.agent.destroy();
    const rep = finish();
    resolveDone(rep);
    return rep;
  };

  function stop(): Promise<LoadReport> {
    if (!stopping) {
      tick();
      issuing = false;
      issuingEndedMs = elapsed();
      clearInterval(interval);
      clearTimeout(hardStop);
      stopping = drain();
    }
    return stopping;
  }

  return { stop, done, snapshot: finish };
}
