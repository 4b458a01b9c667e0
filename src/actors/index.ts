export * from './agentMachine.ts';
export * from './SiteSupervisor.ts';
