export * from './destination.js';
export * from './rules.js';
export * from './send.js';
export * from './signing.js';
