import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadAgentConfig, loadControllerConfig, loadInventory, type AgentConfig } from '../src/index.js';

const deploy = (path: string) => fileURLToPath(new URL(`../../../deploy/${path}`, import.meta.url));

// The production samples and the compose demo: both are copied by operators, so both must load.
const KITS = ['samples', 'compose'] as const;

for (const kit of KITS) {
  test(`deploy/${kit}: agent.yml, controller.yml and inventory.yml load through the real loaders`, async () => {
    const agent = await loadAgentConfig(deploy(`${kit}/agent.yml`));
    const controller = await loadControllerConfig(deploy(`${kit}/controller.yml`));
    const inventory = await loadInventory(deploy(`${kit}/inventory.yml`));

    const entry = inventory.hosts.find((h) => h.id === agent.hostId);
    assert.ok(entry, `inventory.yml lists the agent's host ${agent.hostId}`);
    assert.deepEqual(entry.groups, agent.groups, 'the agent announces the groups the inventory gives it');
    assert.equal(controller.inventory, '/etc/fleetroll/inventory.yml');
    assert.ok(agent.nats && controller.nats, 'both use NATS');
    assert.deepEqual(agent.nats.servers, controller.nats.servers);
  });

  test(`deploy/${kit}: haproxy.cfg and nats.conf match what the agent and controller are told`, async () => {
    const agent = await loadAgentConfig(deploy(`${kit}/agent.yml`));
    const controller = await loadControllerConfig(deploy(`${kit}/controller.yml`));
    assertHaproxyServesSlots(await readFile(deploy(`${kit}/haproxy.cfg`), 'utf8'), agent);
    const nats = await readFile(deploy(`${kit}/nats.conf`), 'utf8');
    for (const nc of [agent.nats, controller.nats]) {
      const { user, pass } = nc ?? {};
      assert.ok(nats.includes(`{ user: ${user}, password: ${pass} }`), `nats.conf has the user ${user}`);
    }
    assert.match(nats, /^jetstream \{/m, 'JetStream is on: the registry and the store need it');
  });
}

/** The admin socket the agent talks to, and a server for every slot in the backend it names. */
function assertHaproxyServesSlots(cfg: string, agent: AgentConfig): void {
  const socket = /^\s*stats socket (\S+) .*level admin/m.exec(cfg);
  assert.equal(socket?.[1], agent.haproxy.socket, 'haproxy.cfg exposes the admin socket agent.yml names');
  const servers = new Set<string>();
  let backend = '';
  for (const line of cfg.split('\n')) {
    const section = /^(\w+)\s+(\S+)?/.exec(line);
    if (section) backend = section[1] === 'backend' ? (section[2] ?? '') : '';
    const server = /^\s+server (\S+) /.exec(line);
    if (backend && server) servers.add(`${backend}/${server[1]}`);
  }
  for (const slot of agent.slots) {
    assert.ok(
      servers.has(`${slot.backend}/${slot.server}`),
      `haproxy.cfg has ${slot.backend}/${slot.server}`,
    );
  }
}
