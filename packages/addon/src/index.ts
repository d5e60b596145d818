export * from './define.js';
export * from './runtime.js';
