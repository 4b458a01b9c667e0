export * from './agentQuery.ts';
export * from './httpServer.ts';
