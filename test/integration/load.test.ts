// The load checker is what makes "0 failed" mean something, so it is tested against a
// server whose answers are known: it must count successes, failures, timeouts and
// refusals exactly, keep its rate, and never send anything off loopback.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startLoad } from '@fleetroll/local-fleet';

interface Fixture {
  base: string;
  hits: () => number;
  close: () => Promise<void>;
}

async function fixtureServer(host = '127.0.0.1'): Promise<Fixture> {
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits++;
    const send = (status: number, body: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(`${body}\n`);
    };
    if (req.url === '/') return send(200, 'v1');
    if (req.url === '/slow') return void setTimeout(() => send(200, 'v1'), 200);
    if (req.url === '/fail') return send(500, 'boom');
    if (req.url === '/hang') return; // never answers: exercises timeouts and stop()
    if (req.url === '/cut') {
      // Promises more body than it sends, then drops the connection.
      res.writeHead(200, { 'content-length': '100' });
      res.write('v1');
      return void setTimeout(() => req.socket.destroy(), 20);
    }
    send(404, 'no');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function closedPort(): Promise<string> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('load generator', { timeout: 30_000 }, () => {
  let fx: Fixture;
  before(async () => {
    fx = await fixtureServer();
  });
  after(async () => {
    await fx.close();
  });

  test('keeps the target rate and counts successes and slow requests', async () => {
    const run = startLoad({
      targets: [fx.base],
      rps: 200,
      slowEvery: 10,
      slowPath: '/slow',
      maxDurationMs: 1500,
    });
    const rep = await run.done;
    assert.equal(rep.failed, 0, JSON.stringify(rep.failures));
    assert.equal(rep.ok, rep.total);
    assert.ok(Math.abs(rep.total - 300) <= 10, `total ${rep.total}, want about 300`);
    assert.ok(Math.abs(rep.achievedRps - 200) <= 20, `achieved ${rep.achievedRps} rps, want about 200`);
    assert.equal(rep.slowTotal, Math.floor(rep.total / 10));
    assert.equal(rep.slowOk, rep.slowTotal);
    assert.deepEqual(rep.bodies, { v1: rep.ok });
    assert.equal(rep.byStatus['200'], rep.ok);
  });

  test('counts every non-2xx answer as a failure', async () => {
    const run = startLoad({
      targets: [fx.base],
      rps: 200,
      slowEvery: 4,
      slowPath: '/fail',
      maxDurationMs: 600,
    });
    const rep = await run.done;
    assert.ok(rep.total >= 100, `total ${rep.total}`);
    assert.equal(rep.failed, rep.slowTotal);
    assert.equal(rep.ok, rep.total - rep.slowTotal);
    assert.equal(rep.byStatus['500'], rep.failed);
    assert.equal(rep.byReason['status 500'], rep.failed);
    assert.equal(rep.failures.length, Math.min(50, rep.failed));
    assert.ok(rep.failures.every((f) => f.path === '/fail' && f.target === fx.base));
    assert.equal(rep.slowOk, 0);
  });

  test('spreads requests evenly over several targets, slow ones included', async () => {
    const other = await fixtureServer();
    try {
      const run = startLoad({
        targets: [fx.base, other.base],
        rps: 200,
        slowEvery: 2,
        slowPath: '/slow',
        maxDurationMs: 500,
      });
      const rep = await run.done;
      assert.equal(rep.failed, 0);
      const a = rep.byTarget[fx.base]?.ok ?? 0;
      const b = rep.byTarget[other.base]?.ok ?? 0;
      assert.ok(Math.abs(a - b) <= 1, `${a} vs ${b}`);
      // With 2 targets and every 2nd request slow, a shared counter would send
      // every slow request to the same target.
      assert.ok(other.hits() > 0 && Math.abs(rep.slowTotal - rep.total / 2) <= 2);
    } finally {
      await other.close();
    }
  });

  test('refuses targets off loopback before sending anything', () => {
    const before = fx.hits();
    const bad = [
      'http://10.0.0.1:80',
      'http://example.com',
      'http://127.0.0.1.nip.io:80',
      'http://[::2]:80',
      'http://0.0.0.0:80',
      'https://127.0.0.1:443',
      'not a url',
    ];
    for (const target of bad) {
      assert.throws(
        () => startLoad({ targets: [fx.base, target], rps: 100, maxDurationMs: 200 }),
        /load target/,
      );
    }
    assert.throws(() => startLoad({ targets: [], rps: 100, maxDurationMs: 200 }), /targets/);
    assert.throws(() => startLoad({ targets: [fx.base], rps: 0, maxDurationMs: 200 }), /rps/);
    assert.throws(() => startLoad({ targets: [fx.base], rps: 10, maxDurationMs: Infinity }), /maxDurationMs/);
    assert.equal(fx.hits(), before);
  });

  test('accepts localhost and ::1', async (t) => {
    const port = new URL(fx.base).port;
    const rep = await startLoad({ targets: [`http://localhost:${port}`], rps: 50, maxDurationMs: 200 }).done;
    assert.equal(rep.failed, 0);
    assert.ok(rep.ok > 0);
    let v6: Fixture;
    try {
      v6 = await fixtureServer('::1');
    } catch {
      return t.skip('no IPv6 loopback on this machine');
    }
    try {
      const rep6 = await startLoad({ targets: [v6.base], rps: 50, maxDurationMs: 200 }).done;
      assert.equal(rep6.failed, 0);
      assert.ok(rep6.ok > 0 && v6.hits() === rep6.ok);
    } finally {
      await v6.close();
    }
  });

  test('counts a response cut off mid-body as failed', async () => {
    const rep = await startLoad({ targets: [fx.base], rps: 50, fastPath: '/cut', maxDurationMs: 200 }).done;
    assert.ok(rep.total > 0);
    assert.equal(rep.failed, rep.total, JSON.stringify(rep.byReason));
    assert.deepEqual(rep.bodies, {});
  });

  test('counts refused connections and timeouts', async () => {
    const refused = await closedPort();
    const rep = await startLoad({ targets: [refused], rps: 100, maxDurationMs: 300 }).done;
    assert.equal(rep.ok, 0);
    assert.equal(rep.failed, rep.total);
    assert.equal(rep.byReason['ECONNREFUSED'], rep.total);

    const hang = await startLoad({
      targets: [fx.base],
      rps: 100,
      slowEvery: 5,
      slowPath: '/hang',
      timeoutMs: 150,
      maxDurationMs: 500,
    }).done;
    assert.equal(hang.failed, hang.slowTotal);
    assert.equal(hang.byReason['timeout after 150ms'], hang.failed);
  });

  test('stop() ends a run early, within its drain bound', async () => {
    const run = startLoad({
      targets: [fx.base],
      rps: 100,
      slowEvery: 2,
      slowPath: '/hang',
      timeoutMs: 10_000,
      drainTimeoutMs: 300,
      maxDurationMs: 20_000,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const t0 = performance.now();
    const rep = await run.stop();
    const took = performance.now() - t0;
    assert.ok(took < 600, `stop took ${took}ms`);
    assert.ok(rep.durationMs < 500, `ran ${rep.durationMs}ms`);
    assert.equal(rep.failed, rep.slowTotal);
    assert.ok((rep.byReason['still in flight 300ms after stop'] ?? 0) > 0);
    assert.equal(rep.ok + rep.failed, rep.total);
    assert.equal(await run.stop(), rep, 'stop() is idempotent');
    assert.equal(await run.done, rep);
  });

  test('caps requests in flight and counts the skipped ones as failed', async () => {
    const rep = await startLoad({
      targets: [fx.base],
      fastPath: '/hang',
      rps: 200,
      maxInFlight: 5,
      timeoutMs: 5_000,
      drainTimeoutMs: 100,
      maxDurationMs: 300,
    }).done;
    assert.equal(rep.inFlightPeak, 5);
    assert.equal(rep.skipped, rep.total - 5);
    assert.equal(rep.failed, rep.total);
    assert.ok(rep.achievedRps < 50, `only 5 requests left, rate ${rep.achievedRps}`);
  });
});
