export * from './agentQuery.ts';
export * from './EventStream.ts';
export * from './httpServer.ts';
export * from './VisualizerSource.ts';
