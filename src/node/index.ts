export * from './adminSubjects.ts';
export * from './InputBatcher.ts';
export * from './NodeMetrics.ts';
export * from './SiteRuntime.ts';
export * from './WfmNode.ts';
