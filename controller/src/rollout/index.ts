export { Rollout } from './rollout.js';
export type { RolloutOptions } from './rollout.js';
export type { RolloutListener } from './ledger.js';
export { DEFAULT_HOST_TIMEOUT_MS, parseRolloutSpec } from './spec.js';
export type { FailureActionName, RolloutSpec, RolloutSpecOptions, Transport } from './spec.js';
export { MemoryRolloutStore } from './store.js';
export type { RolloutStore } from './store.js';
export { HostTimeoutError, RolloutStoreError, UnexpectedAbortError } from './errors.js';
export { exceedsMaxFail } from './failure-policy.js';
