export * from './client.js';
export * from './errors.js';
export * from './hosts.js';
export * from './operations-used.js';
export * from './retry.js';
export * from './spec-index.js';
export * from './url.js';
export type * from './types.js';
export type { paths, components, operations } from './openapi.js';
