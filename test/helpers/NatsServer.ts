// The launcher lives in src/dev so `wfm-agg demo` can start a local server the same way tests do.
export * from '../../src/dev/NatsServer.ts';
