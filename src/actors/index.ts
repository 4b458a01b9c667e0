export * from './agentMachine.ts';
export * from './electionMachine.ts';
export * from './OperationalClock.ts';
export * from './SiteAgents.ts';
export * from './SiteSupervisor.ts';
export * from './siteMachine.ts';
export * from './siteResult.ts';
export * from './siteSnapshot.ts';
