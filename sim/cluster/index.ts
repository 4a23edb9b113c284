export * from './cache.ts';
export * from './cost.ts';
export * from './handle.ts';
export * from './history.ts';
export * from './layout.ts';
export * from './params.ts';
export * from './partitions.ts';
export * from './tracker.ts';
