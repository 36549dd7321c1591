import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import type { StepEvent, msg } from '@fleetroll/shared';
import { freeLoopbackPort, startLocalFleet, type LoadReport, type LocalHost } from '@fleetroll/local-fleet';
import { HaproxyClient } from '@fleetroll/agent';
import { testLoad } from '../support/fleet-run.js';
import { assertNoFailedRequests } from '../support/assertions.js';
import { hostStates, launchChromium, recordHostStates } from '../support/browser.js';

type Status = msg.RolloutStatus__Output;

const ARTIFACTS = new URL('../../artifacts/', import.meta.url);
const DOCS_SHOT = new URL('../../../docs/dashboard.png', import.meta.url);
// Two cores shared with other suites: a host of 3 slots can take half a minute.
const STEP_TIMEOUT_MS = 120_000;
// Two per group: enough to see a paused group's next host not start, light enough to start
// side by side on a busy machine.
const HOSTS = 4;
const SLOTS = 3;
// Long enough to be seen between two of the page's updates, short enough to cost the suite little.
const SOAK_S = 1.5;
// Outlasts the time from the click to the reloaded host's first slot (0.7 s here), within its
// drainTimeout (10 s).
const HELD_S = 4;

/**
 * A request of `seconds` on `host`'s app_1, which the first slot's drain then waits for: a reload
 * asked as that slot goes to weight 0 falls inside its drain, however quickly the other requests end.
 */
async function holdOnApp1(host: LocalHost, seconds: number): Promise<{ held: Promise<number | string> }> {
  const lb = new HaproxyClient({ socketPath: host.socketPath, timeoutMs: 2_000 });
  const others = ['app_2', 'app_3'];
  await Promise.all(others.map((s) => lb.setWeight('app', s, 0)));
  const held = fetch(`${host.frontendUrl}/cgi-bin/slow?${seconds}`, {
    signal: AbortSignal.timeout((seconds + 10) * 1_000),
  }).then(
    (res) => res.status,
    (err: Error) => err.message,
  );
  await sleep(200);
  await Promise.all(others.map((s) => lb.setWeight('app', s, 100)));
  return { held };
}

const tile = (page: Page, group: string, state: string) =>
  page.locator(`article[data-group="${group}"] [data-host][data-state="${state}"]`);

/** Is the subsequence `wanted` in `seen`, in order? */
function inOrder(seen: readonly string[], wanted: readonly string[]): boolean {
  let i = 0;
  for (const s of seen) if (s === wanted[i]) i += 1;
  return i === wanted.length;
}

test('dashboard in a real browser: a 4-host rollout started from the page, eu paused and resumed by clicks, a us HAProxy reloaded mid-slot and its note shown, 0 failed requests', async (t) => {
  // Fails here, before anything starts, on a machine without chromium.
  const browser = await launchChromium();
  t.after(() => browser.close());
  // Odd hosts are eu, even ones us; groups side by side, one host per batch.
  const fleet = await startLocalFleet({
    name: 'dash',
    hosts: HOSTS,
    indexBase: 80,
    transport: 'nats',
    groups: (i) => [i % 2 ? 'eu' : 'us'],
    httpPort: await freeLoopbackPort(),
    dockerHealthcheck: false,
    // As in a container of its own: it cannot see its HAProxy's processes, and the page says so.
    agentPidNamespace: (i) => i === HOSTS,
  });
  t.after(() => fleet.stop());
  const eu = fleet.hosts.map((h) => h.hostId).filter((_, i) => i % 2 === 0);
  // Its HAProxy is reloaded as its first slot goes to weight 0: the agent holds the weight at 0
  // and says so, and the page must show what it said.
  const reloadedHost = fleet.hosts[1];
  assert.ok(reloadedHost);

  const page = await browser.newPage({ viewport: { width: 1360, height: 780 } });
  page.setDefaultTimeout(60_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await recordHostStates(page);
  await page.goto(fleet.dashboardUrl);
  await page.getByText('No rollout yet').waitFor();
  const badge = page.locator('#agents');
  await page.getByText(`${HOSTS} of ${HOSTS} agents alive · 1 with warnings`).waitFor();
  assert.match(
    (await badge.getAttribute('title')) ?? '',
    new RegExp(
      `^${fleet.hosts[HOSTS - 1]?.hostId}: HAProxy says its pid is \\d+, and this agent sees no HAProxy`,
    ),
  );

  // A connection per request: a reload closing idle keep-alive connections is HAProxy's doing.
  const load = testLoad(fleet.frontends, 400_000, { keepAlive: false });
  let report: LoadReport | undefined;
  const statuses: { at: number; status: Status }[] = [];
  const steps: StepEvent[] = [];
  let watching: Promise<void> = Promise.resolve();
  let reload: Promise<void> | undefined;
  const reloadAt: { asked?: number; done?: number } = {};
  try {
    await sleep(1_000);
    const { held } = await holdOnApp1(reloadedHost, HELD_S);
    await page.getByLabel('Image').fill('fleetroll-app:v2');
    await page.getByLabel('Serial').fill('1');
    await page.getByLabel('Groups in parallel').check();
    await page.getByLabel('Soak (s)').fill(String(SOAK_S));
    await page.getByRole('button', { name: 'Start rollout' }).click();
    const head = page.locator('section.head[data-rollout]');
    await head.waitFor();
    const id = (await head.getAttribute('data-rollout')) ?? '';
    assert.match(id, /^r-/);
    // The agents' side, over gRPC, independent of the page.
    watching = fleet.controller.api.watch(id, (update) => {
      if (update.status) statuses.push({ at: Date.now(), status: update.status });
      steps.push(...update.steps);
      if (!reload && update.steps.some((e) => e.hostId === reloadedHost.hostId && e.step === 'WEIGHT_ZERO')) {
        reloadAt.asked = Date.now();
        reload = reloadedHost.reloadHaproxy().then(() => {
          reloadAt.done = Date.now();
        });
      }
      return true;
    });

    // Both groups move: an eu host is updating on the page while others still wait (pending, or
    // being prepared ahead of their batch).
    await tile(page, 'eu', 'HOST_UPDATING').first().waitFor({ timeout: STEP_TIMEOUT_MS });
    const waiting = '[data-host][data-state="HOST_PENDING"], [data-host][data-state="HOST_PULLING"]';
    assert.ok((await page.locator(waiting).count()) > 0, 'no host waits while the first ones update');

    await page.locator('button[data-group="eu"][data-action="pause"]').click();
    await page
      .locator('article[data-group="eu"][data-state="GROUP_PAUSED"]')
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    // us goes on meanwhile: wait until one more of its hosts has succeeded, then look again.
    const usDone = await tile(page, 'us', 'HOST_SUCCEEDED').count();
    if (usDone < HOSTS / 2) {
      await tile(page, 'us', 'HOST_SUCCEEDED').nth(usDone).waitFor({ timeout: STEP_TIMEOUT_MS });
    }
    await page.locator('article[data-group="eu"] button[data-action="resume"]').waitFor();
    // Abort only asks first; declining leaves the rollout as it was.
    await page.getByRole('button', { name: 'Abort…' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Confirm abort' });
    await confirm.waitFor();
    await confirm.getByRole('button', { name: 'Keep it running' }).click();
    await confirm.waitFor({ state: 'hidden' });
    // Paused once us is done too: the rollout then waits on eu.
    assert.match((await fleet.controller.api.get(id)).state, /^ROLLOUT_(RUNNING|PAUSED)$/);
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({
      path: fileURLToPath(new URL('dashboard-paused.png', ARTIFACTS)),
      fullPage: true,
    });
    await page.screenshot({ path: fileURLToPath(DOCS_SHOT), fullPage: true });

    const resumeAt = Date.now();
    await page.locator('button[data-group="eu"][data-action="resume"]').click();
    // eu's last batch soaks too: the page says so while the rollout waits on it.
    await page
      .locator('.lane[data-lane="eu"] .bar[data-soaking="1"][title^="batch 2 soaking: "]')
      .waitFor({ timeout: STEP_TIMEOUT_MS });
    assert.match((await page.locator('section.head .meta').textContent()) ?? '', /each batch soaks 1\.5 s/);
    await page
      .locator('section.head[data-state="ROLLOUT_SUCCEEDED"]')
      .waitFor({ timeout: 3 * STEP_TIMEOUT_MS });
    await page.screenshot({ path: fileURLToPath(new URL('dashboard-done.png', ARTIFACTS)), fullPage: true });
    // Long requests that began during the last slot finish inside the measured window.
    await sleep(1_500);
    report = await load.stop();
    await watching;
    assert.ok(reload, `${reloadedHost.hostId} never reached WEIGHT_ZERO`);
    await reload;
    assert.equal(await held, 200, `the request held on ${reloadedHost.hostId}'s app_1 failed`);

    // What the agents said of slots that did not go plainly stays in the rollout's status, and is
    // on the page, on the host's tile.
    const said = steps.filter((e) => ['DRAINED', 'HEALTHY'].includes(e.step) && e.message !== '');
    assert.ok(
      said.some((e) => e.hostId === reloadedHost.hostId),
      `${reloadedHost.hostId}'s agent said nothing of its HAProxy reload (asked at ${reloadAt.asked}, ` +
        `done at ${reloadAt.done}): ${JSON.stringify(
          steps
            .filter((e) => e.hostId === reloadedHost.hostId)
            .map((e) => `${e.atUnixMs} ${e.slot} ${e.step} ${e.message}`),
        )}`,
    );
    const final = await fleet.controller.api.get(id);
    for (const e of said) {
      const kept = final.hosts.find((h) => h.hostId === e.hostId)?.notes ?? [];
      const shown = await page.locator(`[data-host="${e.hostId}"] .host-note`).allTextContents();
      for (const [where, notes] of [
        ['status', kept],
        ['page', shown],
      ] as const) {
        assert.ok(
          notes.some((note) => note.startsWith(`${e.slot} `) && note.includes(e.message)),
          `${e.hostId} ${e.slot} ${e.step} "${e.message}" not in the ${where}: ${JSON.stringify(notes)}`,
        );
      }
    }

    // While eu was paused, none of its hosts started: not in the status, not in the agents' events.
    const pausedAt = statuses.find(
      (s) => s.status.groups.find((g) => g.group === 'eu')?.state === 'GROUP_PAUSED',
    )?.at;
    assert.ok(pausedAt !== undefined, 'the status stream showed eu paused');
    const during = statuses.filter((s) => s.at > pausedAt && s.at < resumeAt);
    assert.ok(during.length > 0, 'the rollout moved on while eu was paused');
    for (const { status } of during) {
      const busy = status.hosts.filter((h) => eu.includes(h.hostId) && h.state !== 'HOST_PENDING');
      assert.ok(
        busy.every((h) => h.state === 'HOST_SUCCEEDED'),
        `eu hosts moved while paused: ${JSON.stringify(busy.map((h) => [h.hostId, h.state]))}`,
      );
    }
    const euSteps = steps.filter(
      (e) => eu.includes(e.hostId) && e.atUnixMs > pausedAt && e.atUnixMs < resumeAt,
    );
    assert.deepEqual(
      euSteps.map((e) => `${e.hostId} ${e.step}`),
      [],
      'no agent of eu took a step while it was paused',
    );
    assert.ok(
      steps.some((e) => !eu.includes(e.hostId) && e.atUnixMs > pausedAt && e.atUnixMs < resumeAt),
      'us kept going',
    );

    // The page showed every host go from waiting (pending, or already pulling: the status is saved,
    // and sent, once per group of changes) through updating to succeeded.
    const seen = await hostStates(page);
    for (const host of fleet.hosts) {
      const states = seen[host.hostId] ?? [];
      assert.ok(
        ['HOST_PENDING', 'HOST_PULLING'].includes(states[0] ?? '') &&
          inOrder(states, ['HOST_UPDATING', 'HOST_SUCCEEDED']),
        `${host.hostId} on the page: ${states.join(' → ')}`,
      );
      assert.equal(states.at(-1), 'HOST_SUCCEEDED');
    }
    const squares = await page.locator('[data-host] .slot[data-phase="done"]').count();
    assert.equal(squares, HOSTS * SLOTS, 'every slot of every host is shown on the new image');
    assert.equal(await page.locator('li[data-rollout] .badge').first().textContent(), 'succeeded');
    assert.deepEqual(pageErrors, []);

    // The metrics saw the agents' events: every slot replaced once, the paused host's included.
    const metrics = await (await fetch(new URL('metrics', fleet.dashboardUrl))).text();
    assert.match(metrics, new RegExp(`^fleetroll_slots_replaced_total ${HOSTS * SLOTS}$`, 'm'));
    assert.match(metrics, new RegExp(`^fleetroll_slot_weight_zero_seconds_count ${HOSTS * SLOTS}$`, 'm'));
    assert.match(metrics, /^fleetroll_rollouts\{state="succeeded"\} 1$/m);
  } finally {
    report ??= await load.stop();
    // After a failure the watch only ends when t.after stops the controller.
    watching.catch(() => undefined);
    await reload?.catch(() => undefined);
  }
  assertNoFailedRequests(report, fleet.hosts);
});
