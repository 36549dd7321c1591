export { StoreConflictError, StoreUnavailableError } from './errors.js';
export { FileRolloutStore } from './file-rollouts.js';
export { FileLeaseBackend } from './file-lease.js';
export { KvRolloutStore, ROLLOUT_BUCKET, rolloutKey } from './kv-rollouts.js';
export { KvLeaseBackend, LEADER_BUCKET } from './kv-lease.js';
export {
  LeaderLock,
  leaseRecordSchema,
  type Lease,
  type LeaseBackend,
  type LeaseIdentity,
  type LeaseRecord,
  type Transition,
} from './lease.js';
export { Election, type ElectionHandlers } from './election.js';
export { controllerIdentity, openPersistence, type Persistence } from './open.js';
