import { startLocalFleet } from '@fleetroll/local-fleet';
import { recordAgentSteps } from './dist/support/agent-steps.js';
import { readFile } from 'node:fs/promises';
const fleet = await startLocalFleet({ name: 'ec', hosts: 2, indexBase: 60, transport: 'nats' });
try {
  const steps = await recordAgentSteps(fleet.nats.url);
  const { id } = await fleet.controller.api.start({ image: 'fleetroll-app:v2', serial: ['1'] });
  for (let i = 0; i < 12; i++) {
    await new Promise(r => setTimeout(r, 5000));
    const s = await fleet.controller.api.get(id);
    console.log(i, s.state, JSON.stringify(s.hosts.map(h => [h.hostId, h.state, h.step, h.message])), 'seen', steps.seen.length);
    if (s.state !== 'ROLLOUT_RUNNING') break;
  }
  const log = await readFile(fleet.controller.logFile, 'utf8');
  console.log(log.split('\n').filter(l => /"level":(40|50)/.test(l)).slice(0, 10).join('\n').slice(0, 3000));
  await steps.close();
} finally { await fleet.stop(); }
