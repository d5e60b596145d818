export * from './data.js';
export * from './catalog/index.js';
export * from './manifest/index.js';
export * from './auth/index.js';
export * from './api/index.js';
export * from './rate-limit/index.js';
