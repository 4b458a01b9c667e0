export * from './agentMachine.ts';
export * from './SiteSupervisor.ts';
export * from './siteMachine.ts';
