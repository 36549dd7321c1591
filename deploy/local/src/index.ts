// The local fleet kit: real dockerd containers, HAProxy, nats-server, agent and
// controller processes on loopback, for the demo, the tests and the benchmarks.
export * from './agent-process.js';
export * from './containers.js';
export * from './controller-process.js';
export * from './fleet.js';
export * from './haproxy.js';
export * from './host.js';
export * from './load.js';
export * from './nats-cluster.js';
export * from './nats-server.js';
export * from './paths.js';
export * from './ports.js';
export * from './run.js';
export * from './process.js';
