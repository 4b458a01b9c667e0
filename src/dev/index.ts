/** Development tooling shared by `wfm-agg demo`, the tests and the benches. */

export * from './childProcesses.ts';
export * from './cliLaunch.ts';
export * from './localNodeConfig.ts';
export * from './NatsServer.ts';
