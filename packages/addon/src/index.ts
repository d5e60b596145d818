export * from './api-studio.js';
export * from './define.js';
export * from './runtime.js';
