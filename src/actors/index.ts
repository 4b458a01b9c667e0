export * from './agentMachine.ts';
export * from './SiteAgents.ts';
export * from './SiteSupervisor.ts';
export * from './siteMachine.ts';
export * from './siteResult.ts';
export * from './siteSnapshot.ts';
