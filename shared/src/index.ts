export * from './errors.js';
export * from './names.js';
export * from './validate.js';
export * from './logger.js';
export * from './proto.js';
export * from './config/agent.js';
export * from './config/durations.js';
export * from './rpc/agent.js';
