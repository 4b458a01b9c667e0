export * from './httpServer.ts';
