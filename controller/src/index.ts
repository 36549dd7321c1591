export { batchSizes, planBatches } from './plan/batches.js';
export { UNGROUPED, groupNames, partitionByGroup, selectHosts } from './plan/groups.js';
export type { Grouped, HostGroup } from './plan/groups.js';
export { planByGroup } from './plan/by-group.js';
export type { GroupPlan } from './plan/by-group.js';
export * from './transport/index.js';
export * from './rollout/index.js';
export { startController, type RunningController } from './daemon.js';
export { ControllerApi } from './cli/controller-api.js';
