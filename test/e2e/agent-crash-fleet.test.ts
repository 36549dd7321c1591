import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { HaproxyClient } from '@fleetroll/agent';
import { startLocalFleet } from '@fleetroll/local-fleet';
import { assertNoFailedRequests } from '../support/assertions.js';
import {
  assertAllOnV2,
  agentTurmoil,
  describeEntries,
  rollUnderLoad,
  serverWeights,
} from '../support/fleet-run.js';

// Host indexes 78..79; both tests use them, one after the other.
for (const transport of ['nats', 'grpc'] as const) {
  test(
    `over ${transport}: an agent SIGKILLed mid-slot and restarted is recovered through its journal and finished; ` +
      'nothing left at weight 0, 0 failed requests',
    { timeout: 300_000 },
    async (t) => {
      const fleet = await startLocalFleet({
        name: `agentkill-${transport}`,
        hosts: 2,
        indexBase: 78,
        transport,
        dockerHealthcheck: false,
      });
      t.after(() => fleet.stop());
      const victim = fleet.hosts[0]!;
      const lb = new HaproxyClient({ socketPath: victim.socketPath, timeoutMs: 2_000 });
      const before = await serverWeights(fleet);
      const at = { killed: 0, restarted: 0, serving: 0 };
      let weightWhileDead = -1;

      const { status, steps, report } = await rollUnderLoad(
        fleet,
        { image: 'fleetroll-app:v2', serial: ['1'], transport, hostTimeoutMs: 120_000 },
        // The worst moment: app2's old container is set aside, the new one just started.
        async (step) => {
          if (
            at.killed ||
            step.hostId !== victim.hostId ||
            step.slot !== 'app2' ||
            step.step !== 'NEW_STARTED'
          )
            return;
          const agent = victim.agent;
          at.killed = Date.now();
          process.kill(agent.pid, 'SIGKILL');
          await agent.exited;
          weightWhileDead = await lb.getWeight('app', 'app_2');
          at.restarted = Date.now();
          await victim.restartAgent();
          at.serving = Date.now();
        },
      );

      assert.ok(at.killed > 0, 'the agent was never killed: no NEW_STARTED of app2 came');
      assert.equal(weightWhileDead, 0, 'the kill landed inside the slot');
      assert.equal(status.state, 'ROLLOUT_SUCCEEDED', status.message);
      const host = status.hosts.find((h) => h.hostId === victim.hostId);
      assert.equal(host?.state, 'HOST_SUCCEEDED', host?.message);
      assert.match(await readFile(victim.agent.logFile, 'utf8'), /recovered 1 interrupted slot/);
      // Asked again after the restart: app1 is skipped, app2 (rolled back by the journal) and app3 replaced.
      const again = steps.filter((e) => e.hostId === victim.hostId && e.atUnixMs >= at.restarted);
      assert.deepEqual(
        again
          .filter((e) => e.step === 'SLOT_SKIPPED' || e.step === 'SLOT_DONE')
          .map((e) => `${e.step} ${e.slot}`),
        ['SLOT_SKIPPED app1', 'SLOT_DONE app2', 'SLOT_DONE app3'],
      );
      await assertAllOnV2(fleet, before);
      const finished = host?.finishedAtMs ?? 0;
      const { dead, back } = await agentTurmoil(fleet.controller.logFile, at.killed);
      assert.equal(back.length, 1, 'the controller asked the agent again once it was back');
      console.log(
        `# ${transport}: restart → agent serving (journal repaired, as this test saw it) ${at.serving - at.restarted} ms; ` +
          `restart → asked again ${back[0]!.time - at.restarted} ms → host finished ${finished - back[0]!.time} ms; ` +
          `kill → host finished ${finished - at.killed} ms; registry: ${describeEntries(dead, 'reason') || '-'}`,
      );
      assertNoFailedRequests(report, fleet.hosts);
    },
  );
}
