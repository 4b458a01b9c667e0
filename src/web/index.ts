export * from './agentQuery.ts';
export * from './agentRow.ts';
export * from './EventStream.ts';
export * from './httpServer.ts';
export * from './InspectBridge.ts';
export * from './VisualizerSource.ts';
